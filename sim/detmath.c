/* fdlibm-derived log/exp with fixed coefficients: deterministic across machines. */
#include "detmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static uint64_t bits_of(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
static double of_bits(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }

/* 2^k for k in the normal range, built from bits. */
static double pow2i(int k)
{
    if (k > 1023) return INFINITY;
    if (k < -1022) return 0.0; /* callers split large negative scales */
    return of_bits((uint64_t)(k + 1023) << 52);
}

double det_log(double x)
{
    static const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    static const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                        Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                        Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                        Lg7 = 1.479819860511658591e-01;
    if (x != x || x < 0) return NAN;
    if (x == 0) return -INFINITY;
    if (x == INFINITY) return x;
    uint64_t u = bits_of(x);
    int k = 0;
    if ((u >> 52) == 0) { /* subnormal: scale up */
        x *= 18014398509481984.0; /* 2^54 */
        u = bits_of(x);
        k -= 54;
    }
    k += (int)(u >> 52) - 1023;
    /* reduce mantissa into [sqrt(2)/2, sqrt(2)) */
    uint64_t mant = u & 0x000fffffffffffffULL;
    double m = of_bits(mant | 0x3ff0000000000000ULL);
    if (m > 1.4142135623730951) { m *= 0.5; k += 1; }
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    double R = t2 + t1;
    double hfsq = 0.5 * f * f;
    double dk = (double)k;
    return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
}

double det_exp(double x)
{
    static const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10,
                        inv_ln2 = 1.44269504088896338700e+00;
    static const double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03,
                        P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06,
                        P5 = 4.13813679705723846039e-08;
    if (x != x) return x;
    if (x > 709.782712893383973096) return INFINITY;
    if (x < -745.13321910194110842) return 0.0;
    double kd = x * inv_ln2;
    int k = (int)(kd < 0 ? kd - 0.5 : kd + 0.5);
    double hi = x - k * ln2_hi, lo = k * ln2_lo;
    double r = hi - lo;
    double t = r * r;
    double c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    if (k >= -1021)
        return y * pow2i(k);
    return y * pow2i(k + 1000) * pow2i(-1000);
}

double det_pow(double base, double exponent)
{
    if (exponent == 0) return 1.0;
    if (base == 1.0) return 1.0;
    if (base <= 0) return base == 0 ? 0.0 : NAN;
    return det_exp(exponent * det_log(base));
}

double det_sqrt(double x) { return sqrt(x); }
