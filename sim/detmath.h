/* Portable, bit-reproducible log/exp/pow built only from IEEE basic operations. */
#ifndef SIM_DETMATH_H
#define SIM_DETMATH_H

/* libm's transcendental functions may round differently across platforms and
 * versions, and a schedule drawn from them would then differ.  These follow
 * fdlibm's algorithms using only + - * / and exact bit operations, so with
 * -ffp-contract=off they give the same bits on every IEEE-754 machine. */
double det_log(double x);
double det_exp(double x);
double det_pow(double base, double exponent);
double det_sqrt(double x); /* IEEE sqrt is correctly rounded, so exact everywhere */

#endif
