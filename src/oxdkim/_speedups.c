/*
 * Optional C accelerator for oxdkim's canonicalization (RFC 6376 §3.4) and the signer's
 * body check. Every function has a pure-Python reference that differential tests
 * compare it with (oxdkim._dkim.canon, oxdkim._signing.signer).
 *
 * relax_body: relaxed body canonicalization (RFC 6376 §3.4.4).
 * One pass over the body, instead of the several bytes.replace passes of the pure-Python
 * version (oxdkim._dkim.canon), which stays the reference: a differential test checks that
 * both give the same bytes. Semantics, identical to oxdkim._dkim.canon._relax_lines applied
 * after normalize_newlines:
 *   - a bare LF ends a line (written CRLF); CR LF ends a line; any other CR is a byte;
 *   - a run of SP/HTAB becomes one SP; a run right before a line end is dropped;
 *   - a run at the very end of the data is dropped too (transport ends the last line).
 * Trailing empty lines are handled by the caller. The caller hands at most a slice of
 * the body (oxdkim._dkim.canon.SLICE plus a held-back partial line), so the output buffer of
 * twice the input is bounded too.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/*
 * The GIL is released only for inputs this large. Handing the GIL to another thread and
 * taking it back costs more than a pass over a few KB: releasing it around every small
 * pass made two signing threads slower than one.
 */
#define GIL_RELEASE_MIN 32768

#define RELEASE_GIL_IF(n) PyThreadState *saved_ = (n) >= GIL_RELEASE_MIN ? PyEval_SaveThread() : NULL
#define RESTORE_GIL() if (saved_ != NULL) PyEval_RestoreThread(saved_)

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

    RELEASE_GIL_IF(n);
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
    RESTORE_GIL();

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

/*
 * body_flaws(data) -> int: what the signer refuses in a body, found in one pass at
 * memchr speed (oxdkim._signing.signer._BodyCheck is the caller and the reference):
 *   1: a NUL byte;  2: a CR followed by a byte other than LF;  4: the last byte is a CR
 *   (bare or not depends on the next chunk).
 */
static PyObject *
body_flaws(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    const char *in = (const char *)view.buf;
    Py_ssize_t n = view.len;
    long flaws = 0;

    RELEASE_GIL_IF(n);
    if (n > 0 && memchr(in, 0, (size_t)n) != NULL) {
        flaws |= 1;
    }
    const char *p = in;
    const char *end = in + n;
    while (p < end && (p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
        if (p + 1 == end) {
            break;
        }
        if (p[1] != '\n') {
            flaws |= 2;
            break;
        }
        p += 2;
    }
    if (n > 0 && in[n - 1] == '\r') {
        flaws |= 4;
    }
    RESTORE_GIL();

    PyBuffer_Release(&view);
    return PyLong_FromLong(flaws);
}

/*
 * relax_headers(fields) -> bytes: the relaxed canonical form (RFC 6376 §3.4.2) of each
 * whole header field in the sequence, concatenated, each ending in CRLF. Per field the
 * same bytes as oxdkim._dkim.canon.canonicalize_header(field, RELAXED), the reference:
 * the name lowercased (ASCII) without the WSP before the colon; in the value, CRLF and
 * LF removed (unfolding), runs of SP/HTAB made one SP, SP at both ends dropped.
 */
static PyObject *
relax_headers(PyObject *module, PyObject *fields)
{
    Py_ssize_t count = PySequence_Size(fields);
    if (count < 0) {
        return NULL;
    }
    Py_buffer *views = PyMem_Calloc((size_t)(count > 0 ? count : 1), sizeof(Py_buffer));
    if (views == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    Py_ssize_t held = 0;
    Py_ssize_t total = 0;
    for (; held < count; held++) {
        PyObject *item = PySequence_GetItem(fields, held);
        if (item == NULL) {
            goto done;
        }
        int failed = PyObject_GetBuffer(item, &views[held], PyBUF_SIMPLE);
        Py_DECREF(item);
        if (failed != 0) {
            goto done;
        }
        if (views[held].len > PY_SSIZE_T_MAX - total - 3) {
            PyBuffer_Release(&views[held]);
            PyErr_NoMemory();
            goto done;
        }
        total += views[held].len + 3;
    }
    result = PyBytes_FromStringAndSize(NULL, total);
    if (result == NULL) {
        goto done;
    }
    char *out = PyBytes_AsString(result);
    Py_ssize_t o = 0;
    for (Py_ssize_t f = 0; f < count; f++) {
        const char *in = (const char *)views[f].buf;
        Py_ssize_t n = views[f].len;
        const char *colon = n > 0 ? memchr(in, ':', (size_t)n) : NULL;
        if (colon == NULL) {
            Py_CLEAR(result);
            PyErr_SetString(PyExc_ValueError, "a header field without a colon");
            goto done;
        }
        Py_ssize_t name_end = colon - in;
        while (name_end > 0 && (in[name_end - 1] == ' ' || in[name_end - 1] == '\t')) {
            name_end--;
        }
        for (Py_ssize_t i = 0; i < name_end; i++) {
            char c = in[i];
            out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        out[o++] = ':';
        Py_ssize_t end = n;
        if (n >= 2 && in[n - 2] == '\r' && in[n - 1] == '\n') {
            end = n - 2;
        }
        int space = 0;
        int started = 0;
        for (Py_ssize_t i = (colon - in) + 1; i < end; i++) {
            char c = in[i];
            if (c == '\n') {
                continue;
            }
            if (c == '\r' && i + 1 < end && in[i + 1] == '\n') {
                i++;
                continue;
            }
            if (c == ' ' || c == '\t') {
                space = started;
                continue;
            }
            if (space) {
                out[o++] = ' ';
                space = 0;
            }
            out[o++] = c;
            started = 1;
        }
        out[o++] = '\r';
        out[o++] = '\n';
    }
    if (o != total) {
        PyObject *exact = PyBytes_FromStringAndSize(out, o);
        Py_DECREF(result);
        result = exact;
    }
done:
    for (Py_ssize_t f = 0; f < held; f++) {
        PyBuffer_Release(&views[f]);
    }
    PyMem_Free(views);
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"relax_body", relax_body, METH_O,
     "relax_body(data) -> bytes: relaxed body rules on every line (see the module source)."},
    {"body_flaws", body_flaws, METH_O,
     "body_flaws(data) -> int: 1 NUL, 2 a bare CR, 4 ends with CR (see the module source)."},
    {"relax_headers", relax_headers, METH_O,
     "relax_headers(fields) -> bytes: the relaxed form of each header field, joined."},
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
