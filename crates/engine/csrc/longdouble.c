/* INCRBYFLOAT and HINCRBYFLOAT compute in C's long double (80-bit on x86-64)
 * and print with "%.17Lf". Rust has no such type, and the results differ from
 * f64 in ways clients see (0.1 + 0.2 is "0.3" here, not "0.30000000000000004"),
 * so the arithmetic is done by the same libc routines Redis uses. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis 7.0's string2ld: all `len` bytes must be the number (a NUL byte
 * inside is not), no leading space, no NaN, no overflow or underflow to
 * zero. */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    long double v;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end[0] != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Returns 0 and writes the result to out (length in *outlen), or:
 * 1 when the current value is not a float, 2 when the increment is not,
 * 3 when the result is NaN or infinite. cur == NULL means "0". */
int ferrokv_incrbyfloat(const char *cur, size_t curlen, const char *incr, size_t incrlen,
                        char *out, size_t outcap, size_t *outlen) {
    long double value = 0, by;
    int l;
    if (cur != NULL && !parse_ld(cur, curlen, &value)) return 1;
    if (!parse_ld(incr, incrlen, &by)) return 2;
    value += by;
    if (isnan(value) || isinf(value)) return 3;
    l = snprintf(out, outcap, "%.17Lf", value);
    if (l < 0 || (size_t)l + 1 > outcap) {
        *outlen = 0;
        return 0;
    }
    /* Trailing zeros after the point go, then a bare point, as ld2string
     * does in LD_STR_HUMAN mode. */
    if (strchr(out, '.') != NULL) {
        char *p = out + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        l = 1;
    }
    *outlen = (size_t)l;
    return 0;
}

/* Redis's string2ld as a check of an argument parsed elsewhere: 0 when it is
 * not a long double, 1 when it is a finite one, 2 when it is infinite. */
int ferrokv_long_double_class(const char *s, size_t len) {
    long double v;
    if (!parse_ld(s, len, &v)) return 0;
    return isinf(v) ? 2 : 1;
}

/* Redis's getTimeoutFromObjectOrReply in seconds: 0 when the text is not a
 * long double, else 1 with *ms = (long long)ceill(t * 1000). The cast of an
 * out-of-range value is undefined in C; x86-64 gives LLONG_MIN, which Redis
 * then reports as a negative timeout, so that is what is returned here. */
int ferrokv_timeout_ms(const char *s, size_t len, long long *ms) {
    long double v;
    if (!parse_ld(s, len, &v)) return 0;
    v = ceill(v * 1000.0L);
    if (!(v >= -9223372036854775807.0L && v < 9223372036854775807.0L)) {
        *ms = (-9223372036854775807LL - 1);
    } else {
        *ms = (long long)v;
    }
    return 1;
}

/* libc's strtod over a NUL-terminated copy of s (which may hold a NUL of
 * its own, as a C string would end there). Returns the bytes consumed;
 * *erange is set when strtod reported ERANGE. Scores are parsed by the
 * same routine Redis uses, hex floats and all. */
size_t ferrokv_strtod(const char *s, size_t len, double *out, int *erange) {
    char stackbuf[128];
    char *buf = len < sizeof(stackbuf) ? stackbuf : malloc(len + 1);
    char *end;
    size_t used;
    if (buf == NULL) abort();
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    *erange = errno == ERANGE;
    used = (size_t)(end - buf);
    if (buf != stackbuf) free(buf);
    return used;
}
