/*
 * OpenDKIM (libopendkim) as a benchmark peer for benchmarks/run.py.
 *
 * Built by the harness at run time into a cache directory (never committed) as a small
 * shared library and called through ctypes: one foreign call per message, so the driver
 * costs about a microsecond and the time measured is libopendkim's own work.
 *
 * Signing is what an OpenDKIM user does per message: dkim_sign (the PEM key text is handed
 * over and parsed by libopendkim for every message; the API has no pre-parsed key),
 * dkim_chunk over the whole message, dkim_chunk(NULL, 0), dkim_eom, dkim_getsighdr,
 * dkim_free. Verification: dkim_verify, dkim_chunk, dkim_chunk(NULL, 0), dkim_eom, with the
 * key record answered from memory by a dkim_set_key_lookup callback (no DNS, no file).
 *
 * The *_loop functions repeat an operation inside C and time it with CLOCK_MONOTONIC, so
 * the harness can subtract: (ctypes-driven time per message) - (C-loop time per message)
 * is the driver's own overhead, reported beside the results.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dkim.h>

#define PEER_MAX_KEYS 8
#define PEER_NAME_LEN 256
#define PEER_RECORD_LEN 4096

struct peer_key {
	char name[PEER_NAME_LEN]; /* "selector._domainkey.domain", lower case */
	char record[PEER_RECORD_LEN];
};

struct peer {
	DKIM_LIB *lib;
	int nkeys;
	struct peer_key keys[PEER_MAX_KEYS];
};

static const char HEADER_NAME[] = "DKIM-Signature: ";

static DKIM_CBSTAT peer_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct peer *p = (struct peer *) dkim_get_user_context(dkim);
	char name[PEER_NAME_LEN];
	int i;

	if (p == NULL)
		return DKIM_CBSTAT_ERROR;
	snprintf(name, sizeof name, "%s._domainkey.%s", (char *) dkim_sig_getselector(sig),
	         (char *) dkim_sig_getdomain(sig));
	for (i = 0; i < p->nkeys; i++) {
		if (strcasecmp(name, p->keys[i].name) == 0) {
			size_t n = strlen(p->keys[i].record);
			if (n + 1 > buflen)
				return DKIM_CBSTAT_ERROR;
			memcpy(buf, p->keys[i].record, n + 1);
			return DKIM_CBSTAT_CONTINUE;
		}
	}
	return DKIM_CBSTAT_NOTFOUND;
}

/*
 * Split "a:b:c" into a NULL-terminated array (one allocation; free() it), or NULL.
 */
static u_char **split_names(const char *names)
{
	size_t n = 2, len = strlen(names);
	const char *c;
	u_char **out;
	char *text;
	size_t i = 0;

	for (c = names; *c != '\0'; c++)
		n += *c == ':';
	out = malloc(n * sizeof *out + len + 1);
	if (out == NULL)
		return NULL;
	text = (char *) (out + n);
	memcpy(text, names, len + 1);
	for (c = strtok(text, ":"); c != NULL; c = strtok(NULL, ":"))
		out[i++] = (u_char *) c;
	out[i] = NULL;
	return out;
}

/*
 * A library handle. sign and oversign are colon-separated header names (the harness passes
 * the ones oxdkim signs, so both sign the same fields); NULL keeps OpenDKIM's defaults.
 */
void *peer_new(const char *sign, const char *oversign)
{
	struct peer *p = calloc(1, sizeof *p);
	u_char **names;
	DKIM_STAT status = DKIM_STAT_OK;

	if (p == NULL)
		return NULL;
	p->lib = dkim_init(NULL, NULL);
	if (p->lib == NULL) {
		free(p);
		return NULL;
	}
	if (sign != NULL) {
		names = split_names(sign);
		status = names == NULL ? DKIM_STAT_NORESOURCE
		                       : dkim_options(p->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
		                                      names, sizeof(u_char **));
		free(names);
	}
	if (status == DKIM_STAT_OK && oversign != NULL) {
		names = split_names(oversign);
		status = names == NULL ? DKIM_STAT_NORESOURCE
		                       : dkim_options(p->lib, DKIM_OP_SETOPT,
		                                      DKIM_OPTS_OVERSIGNHDRS, names,
		                                      sizeof(u_char **));
		free(names);
	}
	if (status == DKIM_STAT_OK)
		status = dkim_set_key_lookup(p->lib, peer_key_lookup);
	if (status != DKIM_STAT_OK) {
		dkim_close(p->lib);
		free(p);
		return NULL;
	}
	return p;
}

void peer_free(void *handle)
{
	struct peer *p = handle;

	if (p == NULL)
		return;
	dkim_close(p->lib);
	free(p);
}

unsigned int peer_libversion(void)
{
	return (unsigned int) dkim_libversion();
}

int peer_has_ed25519(void *handle)
{
	return dkim_libfeature(((struct peer *) handle)->lib, DKIM_FEATURE_ED25519) ? 1 : 0;
}

/* Publish a key record (the TXT value) for selector._domainkey.domain. */
int peer_add_key(void *handle, const char *selector, const char *domain, const char *record)
{
	struct peer *p = handle;
	struct peer_key *k;

	if (p->nkeys >= PEER_MAX_KEYS || strlen(record) >= PEER_RECORD_LEN)
		return -1;
	k = &p->keys[p->nkeys];
	if (snprintf(k->name, sizeof k->name, "%s._domainkey.%s", selector, domain) >=
	    (int) sizeof k->name)
		return -1;
	strcpy(k->record, record);
	p->nkeys++;
	return 0;
}

/*
 * Sign one message; writes "DKIM-Signature: <value>\r\n" to out.
 * Returns its length, or -(DKIM_STAT + 1) on a library error, or -1000 if out is too small.
 */
long peer_sign(void *handle, const char *key_pem, const char *selector, const char *domain,
               int algorithm, const unsigned char *message, size_t len, char *out,
               size_t outlen)
{
	struct peer *p = handle;
	DKIM_STAT status = DKIM_STAT_OK;
	DKIM *dkim;
	size_t head = sizeof HEADER_NAME - 1;
	size_t vlen;
	dkim_alg_t alg = algorithm == 2 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;

	dkim = dkim_sign(p->lib, (const u_char *) "bench", NULL, (dkim_sigkey_t) key_pem,
	                 (const u_char *) selector, (const u_char *) domain, DKIM_CANON_RELAXED,
	                 DKIM_CANON_RELAXED, alg, -1, &status);
	if (dkim == NULL)
		return -((long) status + 1);
	status = dkim_chunk(dkim, (u_char *) message, len);
	if (status == DKIM_STAT_OK)
		status = dkim_chunk(dkim, NULL, 0);
	if (status == DKIM_STAT_OK)
		status = dkim_eom(dkim, NULL);
	if (status == DKIM_STAT_OK) {
		if (outlen < head + 3) {
			dkim_free(dkim);
			return -1000;
		}
		memcpy(out, HEADER_NAME, head);
		status = dkim_getsighdr(dkim, (u_char *) out + head, outlen - head - 2, head);
	}
	dkim_free(dkim);
	if (status != DKIM_STAT_OK)
		return -((long) status + 1);
	vlen = strlen(out + head);
	memcpy(out + head + vlen, "\r\n", 2);
	return (long) (head + vlen + 2);
}

/*
 * Verify one message: 1 if its (first) signature passed with a matching body hash, 0 if it
 * failed, or -(DKIM_STAT + 1) on a library error other than a bad signature.
 */
int peer_verify(void *handle, const unsigned char *message, size_t len)
{
	struct peer *p = handle;
	DKIM_STAT status = DKIM_STAT_OK;
	DKIM *dkim;
	DKIM_SIGINFO *sig;
	int passed = 0;

	dkim = dkim_verify(p->lib, (const u_char *) "bench", NULL, &status);
	if (dkim == NULL)
		return -((int) status + 1);
	(void) dkim_set_user_context(dkim, p);
	status = dkim_chunk(dkim, (u_char *) message, len);
	if (status == DKIM_STAT_OK)
		status = dkim_chunk(dkim, NULL, 0);
	if (status == DKIM_STAT_OK)
		status = dkim_eom(dkim, NULL);
	if (status == DKIM_STAT_OK) {
		sig = dkim_getsignature(dkim);
		passed = sig != NULL && DKIM_SIG_CHECK(sig);
	} else if (status == DKIM_STAT_BADSIG || status == DKIM_STAT_NOSIG) {
		passed = 0;
		status = DKIM_STAT_OK;
	}
	dkim_free(dkim);
	if (status != DKIM_STAT_OK)
		return -((int) status + 1);
	return passed;
}

/* The same arguments as peer_sign, no work: what one ctypes call itself costs. */
long peer_noop(void *handle, const char *key_pem, const char *selector, const char *domain,
               int algorithm, const unsigned char *message, size_t len, char *out,
               size_t outlen)
{
	(void) handle, (void) key_pem, (void) selector, (void) domain, (void) algorithm;
	(void) len;
	if (outlen > 0)
		out[0] = (char) message[0];
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Seconds for n peer_sign calls made from C (no driver at all); negative on an error. */
double peer_sign_loop(void *handle, const char *key_pem, const char *selector,
                      const char *domain, int algorithm, const unsigned char *message,
                      size_t len, long n)
{
	char out[PEER_RECORD_LEN];
	double start = now();
	long i;

	for (i = 0; i < n; i++)
		if (peer_sign(handle, key_pem, selector, domain, algorithm, message, len, out,
		              sizeof out) < 0)
			return -1.0;
	return now() - start;
}

/* Seconds for n peer_verify calls made from C; negative if one did not pass. */
double peer_verify_loop(void *handle, const unsigned char *message, size_t len, long n)
{
	double start = now();
	long i;

	for (i = 0; i < n; i++)
		if (peer_verify(handle, message, len) != 1)
			return -1.0;
	return now() - start;
}
