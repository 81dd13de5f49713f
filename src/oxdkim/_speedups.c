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
#include <stdint.h>
#include <string.h>

/*
 * The GIL is released only for inputs this large. Handing the GIL to another thread and
 * taking it back costs more than a pass over a few KB: releasing it around every small
 * pass made two signing threads slower than one.
 */
#define GIL_RELEASE_MIN 32768

#define RELEASE_GIL_IF(n) PyThreadState *saved_ = (n) >= GIL_RELEASE_MIN ? PyEval_SaveThread() : NULL
#define RESTORE_GIL() if (saved_ != NULL) PyEval_RestoreThread(saved_)

/*
 * Eight bytes at a time: the high bit of each byte of the result is set exactly where
 * the byte of w equals b (eq_mask) or is below n, for n <= 0x80 (lt_mask). No carry
 * crosses a byte (the classic "haszero" trick, in its exact form).
 */
#define REP(b) (0x0101010101010101ULL * (uint64_t)(b))

static inline uint64_t
eq_mask(uint64_t w, unsigned char b)
{
    uint64_t t = w ^ REP(b);
    return ~(((t & REP(0x7f)) + REP(0x7f)) | t) & REP(0x80);
}

static inline uint64_t
lt_mask(uint64_t w, unsigned char n)
{
    return ~(((w & REP(0x7f)) + REP(0x80 - n)) | w) & REP(0x80);
}

/* Whether the relaxed rules change anything at in[p] (see the file's comment). */
static inline int
changes_at(const unsigned char *in, Py_ssize_t p, Py_ssize_t n)
{
    unsigned char c = in[p];
    if (c == '\t') {
        return 1;
    }
    if (c == '\n') {
        return p == 0 || in[p - 1] != '\r'; /* a bare LF becomes CRLF */
    }
    if (c == ' ') {
        if (p + 1 == n) {
            return 1; /* at the very end: dropped */
        }
        unsigned char d = in[p + 1];
        return d == ' ' || d == '\t' || d == '\n' ||
               (d == '\r' && p + 2 < n && in[p + 2] == '\n');
    }
    return 0;
}

/*
 * The first position at or after i where the relaxed rules change a byte, or n. Most
 * text is unchanged (single spaces between words, CRLF line ends): whole words of eight
 * bytes are skipped unless one holds a HTAB, an LF, or a SP followed by a byte below 0x21.
 */
static Py_ssize_t
next_change(const unsigned char *in, Py_ssize_t i, Py_ssize_t n)
{
    while (i + 9 <= n) {
        uint64_t w, after;
        memcpy(&w, in + i, 8);
        memcpy(&after, in + i + 1, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
        after = __builtin_bswap64(after);
#endif
        uint64_t candidates = eq_mask(w, '\t') | eq_mask(w, '\n') |
                              (eq_mask(w, ' ') & lt_mask(after, 0x21));
        while (candidates) {
            Py_ssize_t p = i + (__builtin_ctzll(candidates) >> 3);
            if (changes_at(in, p, n)) {
                return p;
            }
            candidates &= candidates - 1;
        }
        i += 8;
    }
    for (; i < n; i++) {
        if (changes_at(in, i, n)) {
            return i;
        }
    }
    return n;
}

static PyObject *
relax_body(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    const unsigned char *in = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len;

    Py_ssize_t first;
    {
        RELEASE_GIL_IF(n);
        first = next_change(in, 0, n);
        RESTORE_GIL();
    }
    if (first == n) {
        /* Nothing changes (most text): the input itself (bytes, or a read-only view the
         * caller hashes at once), or one copy of another buffer. */
        PyObject *same;
        if (PyBytes_CheckExact(arg) || PyMemoryView_Check(arg)) {
            Py_INCREF(arg);
            same = arg;
        }
        else {
            same = PyBytes_FromStringAndSize((const char *)in, n);
        }
        PyBuffer_Release(&view);
        return same;
    }
    /* Worst case: every byte is a bare LF and becomes CRLF. */
    if (n > (PY_SSIZE_T_MAX - 1) / 2) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    unsigned char *out = PyMem_Malloc((size_t)(2 * n));
    if (out == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    Py_ssize_t o = 0;
    Py_ssize_t i = 0;
    Py_ssize_t p = first;

    RELEASE_GIL_IF(n);
    for (;;) {
        /* Copy the unchanged span, then apply the rule at p. */
        memcpy(out + o, in + i, (size_t)(p - i));
        o += p - i;
        i = p;
        if (i >= n) {
            break;
        }
        if (in[i] == '\n') { /* a bare LF */
            out[o++] = '\r';
            out[o++] = '\n';
            i++;
        }
        else { /* a run of SP/HTAB */
            Py_ssize_t j = i;
            while (j < n && (in[j] == ' ' || in[j] == '\t')) {
                j++;
            }
            if (j < n && !(in[j] == '\n' || (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n'))) {
                out[o++] = ' '; /* inside a line: one SP */
            }
            i = j; /* before a line end or at the very end: dropped */
        }
        p = next_change(in, i, n);
    }
    RESTORE_GIL();

    PyBuffer_Release(&view);
    PyObject *result = PyBytes_FromStringAndSize((const char *)out, o);
    PyMem_Free(out);
    return result;
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

/*
 * split_fields(block, field_type, max_fields) -> list | None: the header block split into
 * fields, each field_type(name, raw) (oxdkim._dkim.message.HeaderField): raw is the whole
 * field with its continuation lines and its final CRLF, name the bytes before the colon
 * without trailing WSP. The common case only, as oxdkim._dkim.message._split_fields (the
 * reference) reads it: None for anything else (a bare CR or LF, a block starting with
 * WSP, a name that is not ftext, no colon, more than max_fields), which the Python parser
 * then handles or reports precisely.
 */
static PyObject *tuple_new = NULL; /* tuple.__new__, to make the NamedTuple instances */

static PyObject *
split_fields(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "split_fields(block: bytes, field_type, max_fields)");
        return NULL;
    }
    Py_ssize_t max_fields = PyLong_AsSsize_t(args[2]);
    if (max_fields < 0 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *field_type = args[1];
    const unsigned char *in = (const unsigned char *)PyBytes_AsString(args[0]);
    Py_ssize_t n = PyBytes_Size(args[0]);
    if (n == 0 || in[0] == ' ' || in[0] == '\t') {
        Py_RETURN_NONE;
    }
    /* Only CRLF line ends: a CR must be followed by LF, an LF preceded by CR. */
    for (const unsigned char *p = in; (p = memchr(p, '\r', (size_t)(in + n - p))) != NULL; p += 2) {
        if (p + 1 >= in + n || p[1] != '\n') {
            Py_RETURN_NONE;
        }
    }
    for (const unsigned char *p = in; (p = memchr(p, '\n', (size_t)(in + n - p))) != NULL; p++) {
        if (p == in || p[-1] != '\r') {
            Py_RETURN_NONE;
        }
    }
    PyObject *fields = PyList_New(0);
    if (fields == NULL) {
        return NULL;
    }
    Py_ssize_t s = 0;
    while (s < n) {
        /* The name: ftext, then optional WSP, then a colon. */
        Py_ssize_t e = s;
        while (e < n && in[e] >= 0x21 && in[e] <= 0x7e && in[e] != ':') {
            e++;
        }
        Py_ssize_t name_end = e;
        while (e < n && (in[e] == ' ' || in[e] == '\t')) {
            e++;
        }
        if (name_end == s || e >= n || in[e] != ':' || PyList_Size(fields) >= max_fields) {
            Py_DECREF(fields);
            Py_RETURN_NONE;
        }
        /* The field ends at a CRLF not followed by WSP, or at the end of the block. */
        Py_ssize_t end = e;
        for (;;) {
            const unsigned char *lf = memchr(in + end, '\n', (size_t)(n - end));
            if (lf == NULL) {
                end = n;
                break;
            }
            end = (lf - in) + 1;
            if (end >= n || (in[end] != ' ' && in[end] != '\t')) {
                break;
            }
        }
        PyObject *name = PyBytes_FromStringAndSize((const char *)in + s, name_end - s);
        PyObject *raw;
        if (end >= 2 && in[end - 1] == '\n') {
            raw = PyBytes_FromStringAndSize((const char *)in + s, end - s);
        }
        else { /* the last field of a block without a final CRLF */
            raw = PyBytes_FromStringAndSize(NULL, end - s + 2);
            if (raw != NULL) {
                char *buf = PyBytes_AsString(raw);
                memcpy(buf, in + s, (size_t)(end - s));
                buf[end - s] = '\r';
                buf[end - s + 1] = '\n';
            }
        }
        PyObject *pair = (name && raw) ? PyTuple_Pack(2, name, raw) : NULL;
        Py_XDECREF(name);
        Py_XDECREF(raw);
        PyObject *field = pair ? PyObject_CallFunctionObjArgs(tuple_new, field_type, pair, NULL) : NULL;
        Py_XDECREF(pair);
        if (field == NULL || PyList_Append(fields, field) != 0) {
            Py_XDECREF(field);
            Py_DECREF(fields);
            return NULL;
        }
        Py_DECREF(field);
        s = end;
    }
    return fields;
}

/*
 * parse_tags(data, utf8) -> (values, spans) | None: an RFC 6376 §3.2 tag list, the common
 * case of oxdkim._dkim.tags.parse_tag_list (the reference): name -> value bytes, and
 * name -> (start, end) of the value with the whitespace around it. None for anything
 * the reference would refuse (an empty or malformed tag-spec, a bad byte, a duplicate
 * tag, only whitespace), so that it raises its precise error.
 */
static inline int
is_valchar(unsigned char c, int utf8)
{
    return (c >= 0x21 && c <= 0x7e && c != ';') || (utf8 && c >= 0x80);
}

/* FWS as the reference reads it: SP, HTAB, or CRLF followed by SP/HTAB, repeated. */
static inline Py_ssize_t
skip_ws(const unsigned char *in, Py_ssize_t i, Py_ssize_t end)
{
    for (;;) {
        if (i < end && (in[i] == ' ' || in[i] == '\t')) {
            i++;
        }
        else if (i + 2 < end && in[i] == '\r' && in[i + 1] == '\n' &&
                 (in[i + 2] == ' ' || in[i + 2] == '\t')) {
            i += 3;
        }
        else {
            return i;
        }
    }
}

static PyObject *
parse_tags(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "parse_tags(data: bytes, utf8: bool)");
        return NULL;
    }
    int utf8 = PyObject_IsTrue(args[1]);
    if (utf8 < 0) {
        return NULL;
    }
    const unsigned char *in = (const unsigned char *)PyBytes_AsString(args[0]);
    Py_ssize_t n = PyBytes_Size(args[0]);
    PyObject *values = PyDict_New();
    PyObject *spans = PyDict_New();
    if (values == NULL || spans == NULL) {
        goto error;
    }
    Py_ssize_t start = 0;
    int specs = 0;
    while (start <= n) {
        const unsigned char *semi = memchr(in + start, ';', (size_t)(n - start));
        Py_ssize_t end = semi ? (semi - in) : n;
        Py_ssize_t i = skip_ws(in, start, end);
        if (i == end) {
            /* Only whitespace: allowed after a final ';' of a non-empty list. */
            if (semi == NULL && specs > 0) {
                break;
            }
            goto unusual;
        }
        Py_ssize_t name_start = i;
        if (!((in[i] >= 'A' && in[i] <= 'Z') || (in[i] >= 'a' && in[i] <= 'z'))) {
            goto unusual;
        }
        while (i < end && ((in[i] >= 'A' && in[i] <= 'Z') || (in[i] >= 'a' && in[i] <= 'z') ||
                           (in[i] >= '0' && in[i] <= '9') || in[i] == '_')) {
            i++;
        }
        Py_ssize_t name_end = i;
        i = skip_ws(in, i, end);
        if (i >= end || in[i] != '=') {
            goto unusual;
        }
        Py_ssize_t value_start = ++i;
        i = skip_ws(in, i, end);
        Py_ssize_t v_start = i, v_end = i;
        while (i < end && is_valchar(in[i], utf8)) {
            while (i < end && is_valchar(in[i], utf8)) {
                i++;
            }
            v_end = i;
            i = skip_ws(in, i, end);
        }
        if (i != end) {
            goto unusual;
        }
        PyObject *name = PyUnicode_FromStringAndSize((const char *)in + name_start,
                                                     name_end - name_start);
        if (name == NULL) {
            goto error;
        }
        int seen = PyDict_Contains(values, name);
        PyObject *value = seen == 0 ? PyBytes_FromStringAndSize((const char *)in + v_start,
                                                                v_end - v_start)
                                    : NULL;
        PyObject *span = value ? Py_BuildValue("(nn)", value_start, end) : NULL;
        int failed = span == NULL || PyDict_SetItem(values, name, value) != 0 ||
                     PyDict_SetItem(spans, name, span) != 0;
        Py_DECREF(name);
        Py_XDECREF(value);
        Py_XDECREF(span);
        if (seen == 1) {
            goto unusual; /* a tag twice: the reference says which */
        }
        if (failed) {
            goto error;
        }
        specs++;
        if (semi == NULL) {
            break;
        }
        start = end + 1;
    }
    PyObject *result = PyTuple_Pack(2, values, spans);
    Py_DECREF(values);
    Py_DECREF(spans);
    return result;
unusual:
    Py_DECREF(values);
    Py_DECREF(spans);
    Py_RETURN_NONE;
error:
    Py_XDECREF(values);
    Py_XDECREF(spans);
    return NULL;
}

static PyMethodDef speedups_methods[] = {
    {"relax_body", relax_body, METH_O,
     "relax_body(data) -> bytes: relaxed body rules on every line (see the module source)."},
    {"body_flaws", body_flaws, METH_O,
     "body_flaws(data) -> int: 1 NUL, 2 a bare CR, 4 ends with CR (see the module source)."},
    {"relax_headers", relax_headers, METH_O,
     "relax_headers(fields) -> bytes: the relaxed form of each header field, joined."},
    {"parse_tags", (PyCFunction)(void (*)(void))parse_tags, METH_FASTCALL,
     "parse_tags(data, utf8) -> (values, spans) | None: an RFC 6376 tag list."},
    {"split_fields", (PyCFunction)(void (*)(void))split_fields, METH_FASTCALL,
     "split_fields(block, field_type, max_fields) -> list | None: the header fields."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "oxdkim._speedups",
    "Optional C accelerator for relaxed body canonicalization.", -1, speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (tuple_new == NULL) {
        tuple_new = PyObject_GetAttrString((PyObject *)&PyTuple_Type, "__new__");
        if (tuple_new == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&speedups_module);
}
