/*
 * Optional C accelerator for oxdkim's relaxed body canonicalization (RFC 6376 §3.4.4).
 *
 * One pass over the body, instead of the several bytes.replace passes of the pure-Python
 * version (oxdkim._canon), which stays the reference: a differential test checks that
 * both give the same bytes. Semantics, identical to oxdkim._canon._relax_lines applied
 * after normalize_newlines:
 *   - a bare LF ends a line (written CRLF); CR LF ends a line; any other CR is a byte;
 *   - a run of SP/HTAB becomes one SP; a run right before a line end is dropped;
 *   - a run at the very end of the data is dropped too (transport ends the last line).
 * Trailing empty lines are handled by the caller. The caller hands at most a slice of
 * the body (oxdkim._canon.SLICE plus a held-back partial line), so the output buffer of
 * twice the input is bounded too.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
relax_body(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    const unsigned char *in = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len;
    if (n == 0) {
        PyBuffer_Release(&view);
        return PyBytes_FromStringAndSize("", 0);
    }
    /* Worst case: every byte is a bare LF and becomes CRLF. */
    if (n > (PY_SSIZE_T_MAX - 1) / 2) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, 2 * n);
    if (result == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    /* PyBytes_AsString, not the macro: the wheel is built for the stable ABI (abi3). */
    unsigned char *out = (unsigned char *)PyBytes_AsString(result);
    Py_ssize_t o = 0;
    int space = 0;

    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = in[i];
        if (c == ' ' || c == '\t') {
            space = 1;
        }
        else if (c == '\n' || (c == '\r' && i + 1 < n && in[i + 1] == '\n')) {
            if (c == '\r') {
                i++;
            }
            space = 0;
            out[o++] = '\r';
            out[o++] = '\n';
        }
        else {
            if (space) {
                out[o++] = ' ';
                space = 0;
            }
            out[o++] = c;
        }
    }
    Py_END_ALLOW_THREADS

    PyBuffer_Release(&view);
#ifdef Py_LIMITED_API
    /* _PyBytes_Resize is not in the stable ABI: copy the used part (one memcpy). */
    PyObject *exact = PyBytes_FromStringAndSize((const char *)out, o);
    Py_DECREF(result);
    return exact;
#else
    if (_PyBytes_Resize(&result, o) != 0) {
        return NULL;
    }
    return result;
#endif
}

static PyMethodDef speedups_methods[] = {
    {"relax_body", relax_body, METH_O,
     "relax_body(data) -> bytes: relaxed body rules on every line (see the module source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "oxdkim._speedups",
    "Optional C accelerator for relaxed body canonicalization.", -1, speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&speedups_module);
}
