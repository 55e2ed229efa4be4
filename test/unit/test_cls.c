/*
 * test_cls.c
 *	  Unit tests of the massmodel core's classifiers (logistic regression,
 *	  naive Bayes) and classification metrics, without a server.
 *
 * A single program without a framework: every check prints "ok N - name"
 * or "not ok N - name: detail", the last line is "P passed, F failed" and
 * the exit status is 1 when anything failed.  Memory comes from a malloc
 * wrapper that aborts on NULL and records every block, so that everything
 * is freed at the end and valgrind reports no leak.
 *
 * The reference numbers below come from scikit-learn 1.2 (and statsmodels)
 * through test/reference/classification.py; its output is saved in
 * test/reference/classification.out.
 *
 * Run with `make unit`.
 */
#include "mm_core.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Harness: check(), the tracking allocator talloc
 * --------------------------------------------------------------------- */
#include "mm_test.h"

/* A deterministic generator for test data (xorshift64*). */
static uint64_t rng_state = UINT64_C(0x2545F4914F6CDD1D);

static double
rng_unif(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double) ((rng_state * UINT64_C(0x2545F4914F6CDD1D)) >> 11) * 0x1.0p-53;
}

/* Relative difference of a and b against a scale. */
static double
reldiff(double a, double b, double scale)
{
	double		s = fmax(fabs(scale), DBL_MIN);

	return fabs(a - b) / s;
}

/* ---------------------------------------------------------------------
 * Data and references: test/reference/classification.py
 * --------------------------------------------------------------------- */

static const double ref_bin_l2_coef[4] = {
	-0.39443347857205963, -0.51327740442843328, 2.9307513838533605,
	2.4170321883370063,
};
static const double ref_bin_l2_p1[5] = {
	0.15763865450355102, 0.0085366074598134285, 0.091562840379801114,
	0.75838267786960956, 0.73100786538540019,
};
static const double ref_bin_none_coef[4] = {
	-2.4652201951866539, -6.6808870140785279, 9.4293851539265994,
	18.28613688785093,
};
static const double ref_bin_none_p1[5] = {
	1.1716722363747343e-05, 3.9907804509913384e-08, 7.0601879610604642e-06,
	0.99025843849006379, 0.97767885204932325,
};
static const double ref_bin_noint_coef[4] = {
	-1.4329803262645213, -1.1927248737420666, 1.9052424470201805,
	1.8861042295156893,
};
static const double ref_bin_noint_p1[5] = {
	0.09514295176076859, 0.26974857233615918, 0.11792460169985457,
	0.58852066052049223, 0.74629817275110211,
};
static const double ref_sep_l2_coef[4] = {
	0.44034770760238368, -0.907001050730604, 2.3084730815788772,
	0.96232679520917186,
};
static const double ref_multi_l2_coef[12] = {
	-0.42350992000668458, 0.96735057956517156, -2.5171523782095693,
	-1.079336647105116, 0.53446150895266453, -0.32158785519827604,
	-0.20639207102563345, -0.94429846603659029, -0.11095158894605452,
	-0.64576272436690074, 2.723544449235181, 2.023635113141689,
};
static const double ref_multi_l2_intercept[3] = {
	9.8495680504592116, 2.2372056322055558, -12.086773682664621,
};
static const double ref_multi_l2_proba[15] = {
	0.98158349487773722, 0.01841649062359553, 1.4498667355788389e-08,
	0.055767016957240394, 0.93776530883049691, 0.0064676742122628163,
	0.00057899636002949615, 0.48113033836972724, 0.51829066527024326,
	5.6081420096694872e-06, 0.023841391549358784, 0.97615300030863161,
	0.00052900395188027458, 0.4755658833910163, 0.52390511265710349,
};
static const double ref_multi_none_proba[12] = {
	0.90419888734807885, 0.075715219316849047, 0.020085893335072012,
	0.074823858578241448, 0.77767541386498884, 0.14750072755676985,
	0.086282438457282729, 0.54649245092995091, 0.36722511061276641,
	0.14677817370942792, 0.32616682468554969, 0.52705500160502239,
};
static const double ref_gnb_theta[12] = {
	5.0059999999999993, 3.4280000000000008, 1.4620000000000002,
	0.24599999999999991, 5.9359999999999999, 2.7700000000000005,
	4.2599999999999998, 1.3259999999999998, 6.5879999999999983,
	2.9739999999999998, 5.5519999999999996, 2.0259999999999998,
};
static const double ref_gnb_var[12] = {
	0.12176400309550259, 0.14081600309550263, 0.029556003095502676,
	0.010884003095502673, 0.2611040030955028, 0.096500003095502676,
	0.21640000309550278, 0.03832400309550265, 0.39625600309550263,
	0.10192400309550273, 0.29849600309550289, 0.073924003095502649,
};
static const double ref_gnb_prior[3] = {
	0.33333333333333331, 0.33333333333333331, 0.33333333333333331,
};
static const double ref_gnb_proba[21] = {
	1, 1.3578426545097532e-18, 7.1128351163031529e-26,
	3.2138093542663014e-109, 0.80403766553968226, 0.19596233446031797,
	2.5915380282501682e-130, 0.15449408494388256, 0.84550591505611739,
	1.1698812222279229e-138, 0.075269131588514074, 0.92473086841148611,
	2.1406973140994879e-135, 0.61215984474275353, 0.3878401552572468,
	3.2324518072371566e-254, 6.3538103115958551e-11, 0.99999999993646194,
	2.6838258262863244e-131, 0.71264514421552927, 0.2873548557844709,
};
static const double ref_cnb_log_prob[15] = {
	-0.35667494393873223, -1.6094379124341001, -2.3025850929940455,
	-0.81093021621632855, -0.58778666490211884, -1.2039728043259359,
	-0.5108256237659905, -2.3025850929940455, -0.58778666490211884,
	-0.81093021621632855, -2.1972245773362191, -1.5040773967762737,
	-0.40546510810816416, -0.98082925301172619, -0.47000362924573547,
};
static const double ref_cnb_proba[60] = {
	0.66848567530695757, 0.22919508867667118, 0.10231923601637107,
	0.180064308681672, 0.67524115755627012, 0.14469453376205788,
	0.12152777777777775, 0.097222222222222182, 0.78125000000000022,
	0.60587326120556428, 0.32457496136012376, 0.069551777434312234,
	0.2236421725239616, 0.53674121405750796, 0.23961661341853036,
	0.14141414141414141, 0.17676767676767674, 0.68181818181818199,
	0.66848567530695757, 0.22919508867667118, 0.10231923601637107,
	0.2236421725239616, 0.53674121405750796, 0.23961661341853036,
	0.12152777777777775, 0.097222222222222182, 0.78125000000000022,
	0.60587326120556428, 0.32457496136012376, 0.069551777434312234,
	0.180064308681672, 0.67524115755627012, 0.14469453376205788,
	0.2236421725239616, 0.53674121405750796, 0.23961661341853036,
	0.60587326120556428, 0.32457496136012376, 0.069551777434312234,
	0.12152777777777775, 0.097222222222222182, 0.78125000000000022,
	0.66848567530695757, 0.22919508867667118, 0.10231923601637107,
	0.180064308681672, 0.67524115755627012, 0.14469453376205788,
	0.60587326120556428, 0.32457496136012376, 0.069551777434312234,
	0.14141414141414141, 0.17676767676767674, 0.68181818181818199,
	0.66848567530695757, 0.22919508867667118, 0.10231923601637107,
	0.2236421725239616, 0.53674121405750796, 0.23961661341853036,
};
static const double ref_cnb1_proba[9] = {
	0.63913043478260878, 0.27391304347826084, 0.086956521739130446,
	0.20192307692307696, 0.60576923076923062, 0.19230769230769232,
	0.12962962962962962, 0.12962962962962962, 0.74074074074074081,
};
static const double ref_mixed_proba[18] = {
	0.99950447648502128, 0.00028313682926833409, 0.00021238668571049694,
	1.4543779048431844e-08, 0.38240176649983365, 0.61759821895638733,
	0.0017890745677224926, 0.88627891206335607, 0.11193201336892138,
	1.3549334252970402e-07, 0.02094203662582363, 0.97905782788083395,
	6.0405501907130896e-05, 0.027777631125368716, 0.97216196337272442,
	1.0315753450644379e-05, 0.07746120789556242, 0.92252847635098689,
};
#define REF_LOGIT_BIN_L2_INTERCEPT -14.430758180168686
#define REF_LOGIT_BIN_NONE_INTERCEPT -42.637803813021804
#define REF_LOGIT_SEP_L2_INTERCEPT -6.6114032871909778
#define REF_GNB_EPSILON 3.0955026666666677e-09
#define REF_METRICS3_ACCURACY 0.5
#define REF_METRICS3_PRECISION 0.35714285714285715
#define REF_METRICS3_RECALL 0.33750000000000002
#define REF_METRICS3_F1 0.32386363636363635
#define REF_METRICS3_LOG_LOSS 3.8149806786997722
#define REF_METRICS2_ACCURACY 0.6875
#define REF_METRICS2_PRECISION 0.71818181818181825
#define REF_METRICS2_RECALL 0.6875
#define REF_METRICS2_F1 0.67611336032388669
#define REF_METRICS2_LOG_LOSS 0.55492470335572053
#define REF_METRICS2_ROC_AUC 0.7578125
static const double multi_X[90][3] = {
	{-1.043, -2.269, 0.534},
	{-1.082, -0.419, 0.340},
	{0.607, -1.118, 1.171},
	{-0.430, 1.060, 1.239},
	{-0.478, 0.877, 2.367},
	{-1.166, -0.666, 1.299},
	{1.074, -0.206, 1.843},
	{0.019, 0.423, -1.374},
	{-1.661, 2.361, 0.324},
	{-0.773, 1.305, 0.889},
	{-1.045, -1.276, -1.257},
	{-0.655, 1.015, 1.168},
	{-0.931, 0.490, -0.109},
	{-0.481, 0.398, -1.891},
	{-1.126, -0.156, -1.209},
	{-2.139, 0.533, -0.157},
	{0.224, 3.032, 0.222},
	{1.661, 0.037, -0.315},
	{-1.405, -0.190, -0.476},
	{-0.848, 0.493, 0.627},
	{0.504, -0.775, -0.424},
	{-1.194, 0.828, 1.236},
	{-0.257, 0.154, 1.217},
	{0.423, -1.898, -0.124},
	{-0.684, -0.158, 0.016},
	{-0.744, -0.572, 0.311},
	{0.301, 0.820, 0.512},
	{-0.833, 2.772, 0.034},
	{0.479, 0.259, 1.205},
	{0.257, -2.732, -0.219},
	{2.201, -0.989, -1.514},
	{1.926, -0.710, 0.263},
	{-0.187, 0.319, 1.861},
	{2.010, 0.269, -1.107},
	{-0.237, 0.287, 0.015},
	{-0.638, -0.088, 0.067},
	{1.804, 1.054, -2.131},
	{0.391, 0.708, -1.845},
	{1.852, 0.762, -0.582},
	{-0.416, 0.644, 1.457},
	{-0.516, 0.385, -0.240},
	{0.949, 0.522, 0.185},
	{0.578, 1.022, -0.101},
	{1.046, 1.124, -2.167},
	{2.170, 0.359, -0.438},
	{1.049, 1.470, -0.906},
	{1.241, 1.945, -0.051},
	{1.662, 0.476, -0.996},
	{0.704, -0.217, -0.300},
	{0.482, 1.332, -2.220},
	{0.785, -0.791, 0.893},
	{0.521, -0.278, 1.974},
	{0.012, 1.030, 0.763},
	{1.240, 1.008, -0.340},
	{0.195, -1.096, -0.467},
	{1.770, -0.046, 0.007},
	{2.552, 0.791, 0.775},
	{1.625, -0.665, -0.166},
	{-0.079, 0.252, 0.477},
	{0.895, -0.215, -2.020},
	{-0.250, -0.058, 0.308},
	{0.901, 1.601, -0.002},
	{0.082, 1.886, -0.037},
	{0.637, 0.628, 1.662},
	{0.630, 2.819, 3.215},
	{0.321, 1.314, 0.589},
	{-0.574, -0.976, 1.445},
	{-0.207, 1.770, 0.847},
	{-1.764, 1.497, 0.477},
	{0.924, 2.041, 0.022},
	{0.562, 2.183, -1.526},
	{-0.676, 4.049, -0.240},
	{0.697, 2.208, 1.515},
	{1.680, 0.595, 0.199},
	{0.821, -0.083, -1.051},
	{-1.014, 2.278, 0.627},
	{0.036, 2.867, 0.953},
	{0.267, 0.639, 0.247},
	{-0.895, -1.448, -0.238},
	{1.697, 0.224, 0.383},
	{1.605, 1.453, 2.377},
	{-0.355, 1.329, 0.687},
	{0.095, 2.362, 3.069},
	{1.729, 3.039, 0.302},
	{0.041, 0.879, 2.494},
	{1.206, 1.494, 0.221},
	{-1.843, 2.107, -0.100},
	{1.069, 1.228, 0.163},
	{-1.052, -0.317, 0.091},
	{0.235, 2.073, -1.191},
};
static const int32_t multi_y[90] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2
};
static const int32_t cat_codes[20][2] = {
	{0, 1}, {1, 0}, {2, 1}, {0, 0}, {1, 1}, {2, 0}, {0, 1}, {1, 1}, {2, 1},
	{0, 0}, {1, 0}, {1, 1}, {0, 0}, {2, 1}, {0, 1}, {1, 0}, {0, 0}, {2, 0},
	{0, 1}, {1, 1}
};
static const int32_t cat_y[20] = {
	0, 1, 2, 0, 1, 2, 0, 0, 2, 1, 1, 2, 0, 2, 0, 1, 0, 2, 1, 1
};
static const int m3_y[12] = {
	0, 0, 1, 1, 1, 3, 3, 0, 1, 0, 3, 1
};
static const double m3_p[12][4] = {
	{0.70, 0.10, 0.10, 0.10},
	{0.25, 0.25, 0.25, 0.25},
	{0.10, 0.60, 0.20, 0.10},
	{0.00, 0.50, 0.50, 0.00},
	{0.30, 0.30, 0.30, 0.00},
	{0.40, 0.20, 0.20, 0.20},
	{0.10, 0.10, 0.80, 0.00},
	{0.90, 0.00, 0.00, 0.00},
	{0.20, 0.20, 0.20, 0.20},
	{0.05, 0.05, 0.80, 0.10},
	{0.50, 0.10, 0.10, 0.30},
	{0.00, 1.00, 0.00, 0.00},
};
static const int m2_y[16] = {
	0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0
};
static const double m2_s[16] = {
	0.10, 0.90, 0.50, 0.50, 0.70, 0.30, 0.50, 0.50, 0.20, 0.70, 1.00, 0.00,
	0.30, 0.65, 0.20, 0.40
};
static const double iris_X[150][4] = {
	{5.1, 3.5, 1.4, 0.2},
	{4.9, 3.0, 1.4, 0.2},
	{4.7, 3.2, 1.3, 0.2},
	{4.6, 3.1, 1.5, 0.2},
	{5.0, 3.6, 1.4, 0.2},
	{5.4, 3.9, 1.7, 0.4},
	{4.6, 3.4, 1.4, 0.3},
	{5.0, 3.4, 1.5, 0.2},
	{4.4, 2.9, 1.4, 0.2},
	{4.9, 3.1, 1.5, 0.1},
	{5.4, 3.7, 1.5, 0.2},
	{4.8, 3.4, 1.6, 0.2},
	{4.8, 3.0, 1.4, 0.1},
	{4.3, 3.0, 1.1, 0.1},
	{5.8, 4.0, 1.2, 0.2},
	{5.7, 4.4, 1.5, 0.4},
	{5.4, 3.9, 1.3, 0.4},
	{5.1, 3.5, 1.4, 0.3},
	{5.7, 3.8, 1.7, 0.3},
	{5.1, 3.8, 1.5, 0.3},
	{5.4, 3.4, 1.7, 0.2},
	{5.1, 3.7, 1.5, 0.4},
	{4.6, 3.6, 1.0, 0.2},
	{5.1, 3.3, 1.7, 0.5},
	{4.8, 3.4, 1.9, 0.2},
	{5.0, 3.0, 1.6, 0.2},
	{5.0, 3.4, 1.6, 0.4},
	{5.2, 3.5, 1.5, 0.2},
	{5.2, 3.4, 1.4, 0.2},
	{4.7, 3.2, 1.6, 0.2},
	{4.8, 3.1, 1.6, 0.2},
	{5.4, 3.4, 1.5, 0.4},
	{5.2, 4.1, 1.5, 0.1},
	{5.5, 4.2, 1.4, 0.2},
	{4.9, 3.1, 1.5, 0.2},
	{5.0, 3.2, 1.2, 0.2},
	{5.5, 3.5, 1.3, 0.2},
	{4.9, 3.6, 1.4, 0.1},
	{4.4, 3.0, 1.3, 0.2},
	{5.1, 3.4, 1.5, 0.2},
	{5.0, 3.5, 1.3, 0.3},
	{4.5, 2.3, 1.3, 0.3},
	{4.4, 3.2, 1.3, 0.2},
	{5.0, 3.5, 1.6, 0.6},
	{5.1, 3.8, 1.9, 0.4},
	{4.8, 3.0, 1.4, 0.3},
	{5.1, 3.8, 1.6, 0.2},
	{4.6, 3.2, 1.4, 0.2},
	{5.3, 3.7, 1.5, 0.2},
	{5.0, 3.3, 1.4, 0.2},
	{7.0, 3.2, 4.7, 1.4},
	{6.4, 3.2, 4.5, 1.5},
	{6.9, 3.1, 4.9, 1.5},
	{5.5, 2.3, 4.0, 1.3},
	{6.5, 2.8, 4.6, 1.5},
	{5.7, 2.8, 4.5, 1.3},
	{6.3, 3.3, 4.7, 1.6},
	{4.9, 2.4, 3.3, 1.0},
	{6.6, 2.9, 4.6, 1.3},
	{5.2, 2.7, 3.9, 1.4},
	{5.0, 2.0, 3.5, 1.0},
	{5.9, 3.0, 4.2, 1.5},
	{6.0, 2.2, 4.0, 1.0},
	{6.1, 2.9, 4.7, 1.4},
	{5.6, 2.9, 3.6, 1.3},
	{6.7, 3.1, 4.4, 1.4},
	{5.6, 3.0, 4.5, 1.5},
	{5.8, 2.7, 4.1, 1.0},
	{6.2, 2.2, 4.5, 1.5},
	{5.6, 2.5, 3.9, 1.1},
	{5.9, 3.2, 4.8, 1.8},
	{6.1, 2.8, 4.0, 1.3},
	{6.3, 2.5, 4.9, 1.5},
	{6.1, 2.8, 4.7, 1.2},
	{6.4, 2.9, 4.3, 1.3},
	{6.6, 3.0, 4.4, 1.4},
	{6.8, 2.8, 4.8, 1.4},
	{6.7, 3.0, 5.0, 1.7},
	{6.0, 2.9, 4.5, 1.5},
	{5.7, 2.6, 3.5, 1.0},
	{5.5, 2.4, 3.8, 1.1},
	{5.5, 2.4, 3.7, 1.0},
	{5.8, 2.7, 3.9, 1.2},
	{6.0, 2.7, 5.1, 1.6},
	{5.4, 3.0, 4.5, 1.5},
	{6.0, 3.4, 4.5, 1.6},
	{6.7, 3.1, 4.7, 1.5},
	{6.3, 2.3, 4.4, 1.3},
	{5.6, 3.0, 4.1, 1.3},
	{5.5, 2.5, 4.0, 1.3},
	{5.5, 2.6, 4.4, 1.2},
	{6.1, 3.0, 4.6, 1.4},
	{5.8, 2.6, 4.0, 1.2},
	{5.0, 2.3, 3.3, 1.0},
	{5.6, 2.7, 4.2, 1.3},
	{5.7, 3.0, 4.2, 1.2},
	{5.7, 2.9, 4.2, 1.3},
	{6.2, 2.9, 4.3, 1.3},
	{5.1, 2.5, 3.0, 1.1},
	{5.7, 2.8, 4.1, 1.3},
	{6.3, 3.3, 6.0, 2.5},
	{5.8, 2.7, 5.1, 1.9},
	{7.1, 3.0, 5.9, 2.1},
	{6.3, 2.9, 5.6, 1.8},
	{6.5, 3.0, 5.8, 2.2},
	{7.6, 3.0, 6.6, 2.1},
	{4.9, 2.5, 4.5, 1.7},
	{7.3, 2.9, 6.3, 1.8},
	{6.7, 2.5, 5.8, 1.8},
	{7.2, 3.6, 6.1, 2.5},
	{6.5, 3.2, 5.1, 2.0},
	{6.4, 2.7, 5.3, 1.9},
	{6.8, 3.0, 5.5, 2.1},
	{5.7, 2.5, 5.0, 2.0},
	{5.8, 2.8, 5.1, 2.4},
	{6.4, 3.2, 5.3, 2.3},
	{6.5, 3.0, 5.5, 1.8},
	{7.7, 3.8, 6.7, 2.2},
	{7.7, 2.6, 6.9, 2.3},
	{6.0, 2.2, 5.0, 1.5},
	{6.9, 3.2, 5.7, 2.3},
	{5.6, 2.8, 4.9, 2.0},
	{7.7, 2.8, 6.7, 2.0},
	{6.3, 2.7, 4.9, 1.8},
	{6.7, 3.3, 5.7, 2.1},
	{7.2, 3.2, 6.0, 1.8},
	{6.2, 2.8, 4.8, 1.8},
	{6.1, 3.0, 4.9, 1.8},
	{6.4, 2.8, 5.6, 2.1},
	{7.2, 3.0, 5.8, 1.6},
	{7.4, 2.8, 6.1, 1.9},
	{7.9, 3.8, 6.4, 2.0},
	{6.4, 2.8, 5.6, 2.2},
	{6.3, 2.8, 5.1, 1.5},
	{6.1, 2.6, 5.6, 1.4},
	{7.7, 3.0, 6.1, 2.3},
	{6.3, 3.4, 5.6, 2.4},
	{6.4, 3.1, 5.5, 1.8},
	{6.0, 3.0, 4.8, 1.8},
	{6.9, 3.1, 5.4, 2.1},
	{6.7, 3.1, 5.6, 2.4},
	{6.9, 3.1, 5.1, 2.3},
	{5.8, 2.7, 5.1, 1.9},
	{6.8, 3.2, 5.9, 2.3},
	{6.7, 3.3, 5.7, 2.5},
	{6.7, 3.0, 5.2, 2.3},
	{6.3, 2.5, 5.0, 1.9},
	{6.5, 3.0, 5.2, 2.0},
	{6.2, 3.4, 5.4, 2.3},
	{5.9, 3.0, 5.1, 1.8},
};
static const int32_t iris_y[150] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* ---------------------------------------------------------------------
 * Comparison helpers
 * --------------------------------------------------------------------- */

/* Largest relative difference of got[n] and want[n]. */
static double
worst_rel(const double *got, const double *want, int n)
{
	double		worst = 0.0;
	int			i;

	for (i = 0; i < n; i++)
	{
		double		d = reldiff(got[i], want[i], want[i]);

		if (d > worst || isnan(d))
			worst = d;
	}
	return worst;
}

/* Largest absolute difference of got[n] and want[n]. */
static double
worst_abs(const double *got, const double *want, int n)
{
	double		worst = 0.0;
	int			i;

	for (i = 0; i < n; i++)
	{
		double		d = fabs(got[i] - want[i]);

		if (d > worst || isnan(d))
			worst = d;
	}
	return worst;
}

/* Progress callback: counts its calls. */
static void
count_progress(void *arg, int iteration, double loss)
{
	(*(int *) arg)++;
}

/* Default logistic parameters. */
static MmLogisticParams
logit_params(int penalty, double C, bool fit_intercept)
{
	MmLogisticParams p;

	memset(&p, 0, sizeof(p));
	p.penalty = penalty;
	p.C = C;
	p.fit_intercept = fit_intercept;
	p.max_iter = 100;
	p.tol = 1e-10;
	return p;
}

/* ---------------------------------------------------------------------
 * Logistic regression
 * --------------------------------------------------------------------- */

/* Binary fit on iris rows first..first+99 (y = class - ycls), checked. */
static void
check_binary(const char *name, int first, int ycls, const MmLogisticParams *lp,
			 const double *want_coef, double want_intercept,
			 const double *want_p1)
{
	static const int rows[5] = {0, 10, 25, 60, 99};
	int32_t		y[100];
	double		coef[4];
	double		intercept;
	double		got_p1[5];
	double		proba[2];
	MmLogisticInfo info;
	MmErr		err = {{0}};
	MmStatus	st;
	char		label[128];
	int			i;

	for (i = 0; i < 100; i++)
		y[i] = iris_y[first + i] - ycls;
	st = mm_logistic_fit(100, 4, 2, &iris_X[first][0], y, lp, coef, &intercept,
						 &info, NULL, &talloc, &err);
	snprintf(label, sizeof(label), "%s: fit converges", name);
	if (!check(st == MM_OK && info.converged, label, "status %d converged %d: %s",
			   st, info.converged, err.msg))
		return;
	snprintf(label, sizeof(label), "%s: coef match sklearn to 1e-6", name);
	check(worst_rel(coef, want_coef, 4) < 1e-6, label, "worst %g",
		  worst_rel(coef, want_coef, 4));
	snprintf(label, sizeof(label), "%s: intercept matches sklearn to 1e-6", name);
	if (lp->fit_intercept)
		check(reldiff(intercept, want_intercept, want_intercept) < 1e-6, label,
			  "got %.17g want %.17g", intercept, want_intercept);
	else
		check(intercept == 0.0, label, "got %.17g want 0", intercept);
	if (want_p1 == NULL)
		return;
	for (i = 0; i < 5; i++)
	{
		mm_logistic_proba(4, 2, coef, &intercept, iris_X[first + rows[i]], proba);
		got_p1[i] = proba[1];
	}
	snprintf(label, sizeof(label), "%s: probabilities match sklearn to 1e-8", name);
	check(worst_abs(got_p1, want_p1, 5) < 1e-8 &&
		  fabs(proba[0] + proba[1] - 1.0) < 1e-15, label, "worst %g",
		  worst_abs(got_p1, want_p1, 5));
}

static void
test_logistic_binary(void)
{
	MmLogisticParams lp;

	lp = logit_params(2, 1.0, true);
	check_binary("logistic binary l2", 50, 1, &lp, ref_bin_l2_coef,
				 REF_LOGIT_BIN_L2_INTERCEPT, ref_bin_l2_p1);
	lp = logit_params(0, 1.0, true);
	check_binary("logistic binary none", 50, 1, &lp, ref_bin_none_coef,
				 REF_LOGIT_BIN_NONE_INTERCEPT, ref_bin_none_p1);
	lp = logit_params(2, 0.5, false);
	check_binary("logistic binary no intercept", 50, 1, &lp, ref_bin_noint_coef,
				 0.0, ref_bin_noint_p1);
	lp = logit_params(2, 1.0, true);
	check_binary("logistic separable l2", 0, 0, &lp, ref_sep_l2_coef,
				 REF_LOGIT_SEP_L2_INTERCEPT, NULL);
	track_reset(&tracker);
}

static void
test_logistic_separable(void)
{
	MmLogisticParams lp = logit_params(0, 1.0, true);
	double		coef[4];
	double		intercept;
	MmErr		err = {{0}};
	MmStatus	st;

	st = mm_logistic_fit(100, 4, 2, &iris_X[0][0], iris_y, &lp, coef, &intercept,
						 NULL, NULL, &talloc, &err);
	check(st == MM_ESEPARABLE && strstr(err.msg, "perfectly separable") != NULL,
		  "logistic separable none: error naming separation",
		  "status %d: %s", st, err.msg);

	/* too few iterations to reach the loss threshold: still detected */
	lp.max_iter = 3;
	memset(&err, 0, sizeof(err));
	st = mm_logistic_fit(100, 4, 2, &iris_X[0][0], iris_y, &lp, coef, &intercept,
						 NULL, NULL, &talloc, &err);
	check(st == MM_ESEPARABLE && strstr(err.msg, "perfectly separable") != NULL,
		  "logistic separable none, max_iter 3: error naming separation",
		  "status %d: %s", st, err.msg);
	track_reset(&tracker);
}

static void
test_logistic_multi(void)
{
	static const int rows_e[5] = {0, 60, 77, 120, 133};
	static const int rows_f[4] = {0, 17, 45, 89};
	MmLogisticParams lp = logit_params(2, 1.0, true);
	MmLogisticInfo info;
	MmProgress	prog;
	int			calls = 0;
	double		coef[12];
	double		coef2[12];
	double		intercept[3];
	double		intercept2[3];
	double		mcoef[9];
	double		mintercept[3];
	double		proba[18];
	MmErr		err = {{0}};
	MmStatus	st;
	int			i;
	bool		zero;

	prog.fn = count_progress;
	prog.arg = &calls;
	st = mm_logistic_fit(150, 4, 3, &iris_X[0][0], iris_y, &lp, coef, intercept,
						 &info, &prog, &talloc, &err);
	if (check(st == MM_OK && info.converged, "logistic multinomial l2: fit converges",
			  "status %d: %s", st, err.msg))
	{
		check(worst_rel(coef, ref_multi_l2_coef, 12) < 1e-6,
			  "logistic multinomial l2: coef match sklearn to 1e-6", "worst %g",
			  worst_rel(coef, ref_multi_l2_coef, 12));
		check(worst_rel(intercept, ref_multi_l2_intercept, 3) < 1e-6,
			  "logistic multinomial l2: intercepts match sklearn to 1e-6",
			  "worst %g", worst_rel(intercept, ref_multi_l2_intercept, 3));
		for (i = 0; i < 5; i++)
			mm_logistic_proba(4, 3, coef, intercept, iris_X[rows_e[i]], proba + 3 * i);
		check(worst_abs(proba, ref_multi_l2_proba, 15) < 1e-8,
			  "logistic multinomial l2: probabilities match sklearn to 1e-8",
			  "worst %g", worst_abs(proba, ref_multi_l2_proba, 15));
		check(calls >= info.iterations + 1 && info.iterations > 0,
			  "logistic: progress callback called every iteration",
			  "%d calls, %d iterations", calls, info.iterations);
		check(info.grad_norm <= 1e-10 * fmax(1.0, info.objective),
			  "logistic: info reports the converged gradient",
			  "grad %g objective %g", info.grad_norm, info.objective);
		{
			/* warm start from the solution: at most one step, the same solution */
			MmLogisticParams wp = lp;
			MmLogisticInfo winfo;
			int			cold_iterations = info.iterations;

			wp.init_coef = coef;
			wp.init_intercept = intercept;
			st = mm_logistic_fit(150, 4, 3, &iris_X[0][0], iris_y, &wp, coef2, intercept2,
								 &winfo, NULL, &talloc, &err);
			check(st == MM_OK && winfo.converged && winfo.iterations <= 1 &&
				  winfo.iterations < cold_iterations &&
				  worst_rel(coef2, coef, 12) < 1e-8 && worst_rel(intercept2, intercept, 3) < 1e-8,
				  "logistic: a warm start from the solution stays there in at most one step",
				  "status %d, %d iterations (cold %d), worst %g", st, winfo.iterations,
				  cold_iterations, worst_rel(coef2, coef, 12));
			coef2[0] = NAN;
			wp.init_coef = coef2;
			st = mm_logistic_fit(150, 4, 3, &iris_X[0][0], iris_y, &wp, coef2, intercept2,
								 &winfo, NULL, &talloc, &err);
			check(st == MM_EINVAL && strstr(err.msg, "starting weights") != NULL,
				  "logistic: non-finite starting weights are refused", "status %d: %s", st, err.msg);
		}
	}

	/* deterministic: the same fit gives the same bytes */
	st = mm_logistic_fit(150, 4, 3, &iris_X[0][0], iris_y, &lp, coef2, intercept2,
						 NULL, NULL, &talloc, &err);
	check(st == MM_OK && memcmp(coef, coef2, sizeof(coef)) == 0 &&
		  memcmp(intercept, intercept2, sizeof(intercept)) == 0,
		  "logistic: refitting gives identical coefficients", "status %d", st);

	lp = logit_params(0, 1.0, true);
	st = mm_logistic_fit(90, 3, 3, &multi_X[0][0], multi_y, &lp, mcoef, mintercept,
						 &info, NULL, &talloc, &err);
	if (check(st == MM_OK && info.converged,
			  "logistic multinomial none: fit converges", "status %d: %s", st, err.msg))
	{
		zero = mintercept[2] == 0.0;
		for (i = 0; i < 3; i++)
			zero = zero && mcoef[6 + i] == 0.0;
		check(zero, "logistic multinomial none: last class fixed at zero",
			  "intercept %g", mintercept[2]);
		for (i = 0; i < 4; i++)
			mm_logistic_proba(3, 3, mcoef, mintercept, multi_X[rows_f[i]], proba + 3 * i);
		check(worst_abs(proba, ref_multi_none_proba, 12) < 1e-6,
			  "logistic multinomial none: probabilities match sklearn to 1e-6",
			  "worst %g", worst_abs(proba, ref_multi_none_proba, 12));
	}
	track_reset(&tracker);
}

static void
test_logistic_invalid(void)
{
	MmLogisticParams lp = logit_params(2, 1.0, true);
	MmLogisticParams bad;
	double		coef[12];
	double		intercept[3];
	double		X[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	int32_t		y[4] = {0, 1, 0, 1};
	int32_t		ybad[4] = {0, 1, 2, 1};
	int32_t		yone[4] = {0, 0, 0, 0};
	MmErr		err = {{0}};

	check(mm_logistic_fit(0, 2, 2, X, y, &lp, coef, intercept, NULL, NULL, &talloc, &err) == MM_EINVAL,
		  "logistic: no rows is invalid", "%s", err.msg);
	check(mm_logistic_fit(4, 0, 2, X, y, &lp, coef, intercept, NULL, NULL, &talloc, &err) == MM_EINVAL,
		  "logistic: no features is invalid", "%s", err.msg);
	check(mm_logistic_fit(4, 2, 1, X, yone, &lp, coef, intercept, NULL, NULL, &talloc, &err) == MM_EINVAL,
		  "logistic: one class is invalid", "%s", err.msg);
	check(mm_logistic_fit(4, 2, 2, X, ybad, &lp, coef, intercept, NULL, NULL, &talloc, &err) == MM_EINVAL &&
		  strstr(err.msg, "out of range") != NULL,
		  "logistic: class out of range is invalid", "%s", err.msg);
	bad = lp;
	bad.C = 0.0;
	check(mm_logistic_fit(4, 2, 2, X, y, &bad, coef, intercept, NULL, NULL, &talloc, &err) == MM_EINVAL,
		  "logistic: C = 0 is invalid", "%s", err.msg);
	bad = lp;
	bad.penalty = 1;
	check(mm_logistic_fit(4, 2, 2, X, y, &bad, coef, intercept, NULL, NULL, &talloc, &err) == MM_EINVAL,
		  "logistic: penalty l1 is invalid", "%s", err.msg);
	bad = lp;
	bad.tol = NAN;
	check(mm_logistic_fit(4, 2, 2, X, y, &bad, coef, intercept, NULL, NULL, &talloc, &err) == MM_EINVAL,
		  "logistic: NaN tol is invalid", "%s", err.msg);
	X[5] = NAN;
	check(mm_logistic_fit(4, 2, 2, X, y, &lp, coef, intercept, NULL, NULL, &talloc, &err) == MM_EINVAL,
		  "logistic: NaN feature is invalid", "%s", err.msg);
	X[5] = 6;
	check(mm_logistic_fit(4, 2, 3, X, y, &lp, coef, intercept, NULL, NULL, &talloc, &err) == MM_ENODATA,
		  "logistic: a class without rows is reported", "%s", err.msg);
	track_reset(&tracker);
}

/* A larger synthetic problem through several row blocks: sane and calm. */
static void
test_logistic_blocks(void)
{
	int64_t		n = 5000;
	int			p = 3;
	double	   *X = mm_alloc0(&talloc, sizeof(double) * n * p);
	int32_t    *y = mm_alloc0(&talloc, sizeof(int32_t) * n);
	double		coef[12];
	double		intercept[4];
	double		proba[4];
	double		s;
	MmLogisticParams lp = logit_params(2, 10.0, true);
	MmLogisticInfo info;
	MmErr		err = {{0}};
	MmStatus	st;
	int64_t		i;
	int			j;

	rng_state = UINT64_C(0x9E3779B97F4A7C15);
	for (i = 0; i < n; i++)
	{
		double		z = 0.5;

		for (j = 0; j < p; j++)
		{
			X[i * p + j] = rng_unif() * 4.0 - 2.0;
			z += (j + 1) * X[i * p + j];
		}
		y[i] = (int32_t) (rng_unif() < 1.0 / (1.0 + exp(-z))) + (i % 2) * 2;
	}
	st = mm_logistic_fit(n, p, 4, X, y, &lp, coef, intercept, &info, NULL, &talloc, &err);
	check(st == MM_OK && info.converged && info.iterations < 20,
		  "logistic: 5000 rows, 4 classes converge in a few Newton steps",
		  "status %d iterations %d: %s", st, info.iterations, err.msg);
	mm_logistic_proba(p, 4, coef, intercept, X, proba);
	s = proba[0] + proba[1] + proba[2] + proba[3];
	check(fabs(s - 1.0) < 1e-14, "logistic: softmax probabilities sum to 1", "sum %.17g", s);
	track_reset(&tracker);
}

/*
 * From 200,000 rows Newton starts from a fit on every 16th row: the same
 * optimum as Newton from zero (a zero warm start skips the subsample), in
 * fewer passes over all the rows; binary and multinomial, C and penalty none.
 */
static void
test_logistic_subsample(void)
{
	int64_t		n = 240000;
	int			p = 4;
	double	   *X = mm_alloc0(&talloc, sizeof(double) * n * p);
	int32_t    *y2 = mm_alloc0(&talloc, sizeof(int32_t) * n);
	int32_t    *y3 = mm_alloc0(&talloc, sizeof(int32_t) * n);
	double		zero[12] = {0};
	int64_t		i;
	int			j;

	rng_state = UINT64_C(0x5851F42D4C957F2D);
	for (i = 0; i < n; i++)
	{
		double		z = -0.3;

		for (j = 0; j < p; j++)
		{
			X[i * p + j] = rng_unif() * 6.0 - 3.0;
			z += (0.4 * j - 0.5) * X[i * p + j];
		}
		y2[i] = rng_unif() < 1.0 / (1.0 + exp(-z));
		y3[i] = y2[i] + (rng_unif() < 0.3 ? 1 : 0) * (X[i * p] > 0 ? 1 : 0);
	}
	for (int c = 0; c < 3; c++)
	{
		int			K = c == 2 ? 3 : 2;
		const int32_t *y = c == 2 ? y3 : y2;
		int			nsets = mm_logistic_nsets(K);
		MmLogisticParams lp = logit_params(c == 1 ? 0 : 2, 0.5, true);
		MmLogisticParams lz = lp;
		double		coef[12],
					icp[3],
					coefz[12],
					icpz[3],
					worst = 0.0;
		MmLogisticInfo info,
					infoz;
		MmErr		err = {{0}};
		MmStatus	st,
					stz;

		lp.tol = lz.tol = 1e-8;
		lz.init_coef = zero;
		lz.init_intercept = zero;
		st = mm_logistic_fit(n, p, K, X, y, &lp, coef, icp, &info, NULL, &talloc, &err);
		stz = mm_logistic_fit(n, p, K, X, y, &lz, coefz, icpz, &infoz, NULL, &talloc, &err);
		for (j = 0; j < nsets * p; j++)
			worst = fmax(worst, reldiff(coef[j], coefz[j], coefz[j]));
		for (j = 0; j < nsets; j++)
			worst = fmax(worst, reldiff(icp[j], icpz[j], fmax(fabs(icpz[j]), 1.0)));
		check(st == MM_OK && stz == MM_OK && info.converged && infoz.converged && worst < 1e-7,
			  c == 0 ? "logistic subsample start: binary l2, the same optimum as from zero" :
			  c == 1 ? "logistic subsample start: binary none, the same optimum as from zero" :
			  "logistic subsample start: multinomial l2, the same optimum as from zero",
			  "status %d/%d worst %g", st, stz, worst);
		check(info.iterations < infoz.iterations,
			  c == 0 ? "logistic subsample start: binary l2, fewer passes over all rows" :
			  c == 1 ? "logistic subsample start: binary none, fewer passes over all rows" :
			  "logistic subsample start: multinomial l2, fewer passes over all rows",
			  "%d with, %d without", info.iterations, infoz.iterations);
	}
	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * Naive Bayes
 * --------------------------------------------------------------------- */

static void
test_gnb(void)
{
	static const int rows[7] = {0, 50, 70, 77, 83, 100, 133};
	int32_t		group[4] = {-1, -1, -1, -1};
	MmNaiveBayes nb;
	MmErr		err = {{0}};
	MmStatus	st;
	double		prior[3];
	double		proba[21];
	int			i;

	st = mm_nb_fit(150, 4, 3, &iris_X[0][0], iris_y, group, 1e-9, 1.0, &nb,
				   &talloc, &err);
	if (!check(st == MM_OK, "gaussian nb: fit", "status %d: %s", st, err.msg))
		return;
	check(worst_rel(nb.theta, ref_gnb_theta, 12) < 1e-12,
		  "gaussian nb: theta matches sklearn", "worst %g",
		  worst_rel(nb.theta, ref_gnb_theta, 12));
	check(worst_rel(nb.var, ref_gnb_var, 12) < 1e-10,
		  "gaussian nb: var matches sklearn", "worst %g",
		  worst_rel(nb.var, ref_gnb_var, 12));
	check(reldiff(nb.epsilon, REF_GNB_EPSILON, REF_GNB_EPSILON) < 1e-10,
		  "gaussian nb: epsilon matches sklearn", "got %.17g", nb.epsilon);
	for (i = 0; i < 3; i++)
		prior[i] = exp(nb.log_prior[i]);
	check(worst_rel(prior, ref_gnb_prior, 3) < 1e-14,
		  "gaussian nb: class priors match sklearn", "worst %g",
		  worst_rel(prior, ref_gnb_prior, 3));
	for (i = 0; i < 7; i++)
		mm_nb_proba(&nb, iris_X[rows[i]], proba + 3 * i);
	check(worst_abs(proba, ref_gnb_proba, 21) < 1e-10,
		  "gaussian nb: probabilities match sklearn to 1e-10", "worst %g",
		  worst_abs(proba, ref_gnb_proba, 21));
	track_reset(&tracker);
}

/*
 * The AVX2 quadratic form of mm_nb_proba gives the plain one's bits: every
 * width from 1 to 23 (each tail after the lanes of four), three classes,
 * rows near and far from the means.
 */
static void
test_gnb_avx2(void)
{
	int			saved = mm_nb_avx2;
	int			rows = 200;
	int			diff = 0;
	int			tried = 0;

	if (!mm_cpu_avx2())
	{
		check(true, "gaussian nb: AVX2 quadratic form", "%s", "no AVX2 on this CPU");
		return;
	}
	for (int p = 1; p <= 23; p++)
	{
		double	   *X = malloc(sizeof(double) * rows * p);
		int32_t    *y = malloc(sizeof(int32_t) * rows);
		int32_t    *group = malloc(sizeof(int32_t) * p);
		MmNaiveBayes nb;
		MmErr		err = {{0}};

		for (int j = 0; j < p; j++)
			group[j] = -1;
		for (int i = 0; i < rows; i++)
		{
			y[i] = i % 3;
			for (int j = 0; j < p; j++)
				X[i * p + j] = (rng_unif() - 0.5) * (1 + j) + y[i] * 0.3 + (i % 17 == 0 ? 40.0 : 0.0);
		}
		if (mm_nb_fit(rows, p, 3, X, y, group, 1e-9, 1.0, &nb, &talloc, &err) != MM_OK)
			diff++;
		else
			for (int i = 0; i < rows; i++)
			{
				double		a[3],
							b[3];

				mm_nb_avx2 = 1;
				mm_nb_proba(&nb, X + (size_t) i * p, a);
				mm_nb_avx2 = 0;
				mm_nb_proba(&nb, X + (size_t) i * p, b);
				diff += memcmp(a, b, sizeof(a)) != 0;
				tried++;
			}
		free(X);
		free(y);
		free(group);
	}
	mm_nb_avx2 = saved;
	check(diff == 0 && tried == 23 * rows, "gaussian nb: AVX2 quadratic form gives the same bits",
		  "%d of %d rows differ", diff, tried);
	track_reset(&tracker);
}

/* One-hot encode cat_codes: group 0 in columns 0..2, group 1 in 3..4. */
static void
cat_onehot(int row, double *x)
{
	memset(x, 0, 5 * sizeof(double));
	x[cat_codes[row][0]] = 1.0;
	x[3 + cat_codes[row][1]] = 1.0;
}

static void
test_cnb(void)
{
	int32_t		group[5] = {0, 0, 0, 1, 1};
	double		X[20 * 5];
	double		lp[15];
	double		proba[60];
	double		x[5];
	MmNaiveBayes nb;
	MmErr		err = {{0}};
	MmStatus	st;
	int			i;

	for (i = 0; i < 20; i++)
		cat_onehot(i, X + 5 * i);
	st = mm_nb_fit(20, 5, 3, X, cat_y, group, 1e-9, 1.0, &nb, &talloc, &err);
	if (!check(st == MM_OK, "categorical nb: fit", "status %d: %s", st, err.msg))
		return;
	/* sklearn's per-group arrays side by side: classes x one-hot columns */
	memcpy(lp, nb.log_prob, sizeof(lp));
	check(worst_rel(lp, ref_cnb_log_prob, 15) < 1e-12,
		  "categorical nb: log probabilities match sklearn", "worst %g",
		  worst_rel(lp, ref_cnb_log_prob, 15));
	for (i = 0; i < 20; i++)
		mm_nb_proba(&nb, X + 5 * i, proba + 3 * i);
	check(worst_abs(proba, ref_cnb_proba, 60) < 1e-10,
		  "categorical nb: probabilities match sklearn to 1e-10", "worst %g",
		  worst_abs(proba, ref_cnb_proba, 60));
	for (i = 0; i < 3; i++)
	{
		memset(x, 0, sizeof(x));
		x[i] = 1.0;
		mm_nb_proba(&nb, x, proba + 3 * i);
	}
	check(worst_abs(proba, ref_cnb1_proba, 9) < 1e-10,
		  "categorical nb: an all-zero group contributes nothing", "worst %g",
		  worst_abs(proba, ref_cnb1_proba, 9));
	track_reset(&tracker);
}

/*
 * Iris as two numeric columns (sepal length and width) and a one-hot
 * group of three columns for the petal length binned at 2.5 and 5.0
 * (numpy.digitize(x, [2.5, 5.0])): 150 rows of 5 values into X.
 */
static void
mixed_iris(double *X)
{
	memset(X, 0, sizeof(double) * 150 * 5);
	for (int i = 0; i < 150; i++)
	{
		double		pl = iris_X[i][2];

		X[5 * i] = iris_X[i][0];
		X[5 * i + 1] = iris_X[i][1];
		X[5 * i + 2 + (pl < 2.5 ? 0 : pl < 5.0 ? 1 : 2)] = 1.0;
	}
}

static void
test_mixed_nb(void)
{
	static const int rows[6] = {0, 50, 70, 77, 100, 133};
	int32_t		group[5] = {-1, -1, 7, 7, 7};
	double		X[150 * 5];
	double		proba[18];
	MmNaiveBayes nb;
	MmErr		err = {{0}};
	MmStatus	st;
	int			i;

	mixed_iris(X);
	st = mm_nb_fit(150, 5, 3, X, iris_y, group, 1e-9, 1.0, &nb, &talloc, &err);
	if (!check(st == MM_OK, "mixed nb: fit", "status %d: %s", st, err.msg))
		return;
	for (i = 0; i < 6; i++)
		mm_nb_proba(&nb, X + 5 * rows[i], proba + 3 * i);
	check(worst_abs(proba, ref_mixed_proba, 18) < 1e-10,
		  "mixed nb: probabilities match sklearn's gaussian + categorical to 1e-10",
		  "worst %g", worst_abs(proba, ref_mixed_proba, 18));
	track_reset(&tracker);
}

static void
test_nb_invalid(void)
{
	double		X[8] = {1, 0, 2, 1, 3, 0, 4, 1};
	int32_t		y[4] = {0, 1, 0, 1};
	int32_t		ybad[4] = {0, 1, 5, 1};
	int32_t		gnum[2] = {-1, -1};
	int32_t		gcat[2] = {-1, 0};
	int32_t		gbad[2] = {-2, 0};
	MmNaiveBayes nb;
	MmErr		err = {{0}};

	check(mm_nb_fit(4, 2, 2, X, y, gcat, 1e-9, 1.0, &nb, &talloc, &err) == MM_OK,
		  "nb: a small valid fit", "%s", err.msg);
	check(mm_nb_fit(0, 2, 2, X, y, gnum, 1e-9, 1.0, &nb, &talloc, &err) == MM_EINVAL,
		  "nb: no rows is invalid", "%s", err.msg);
	check(mm_nb_fit(4, 2, 1, X, y, gnum, 1e-9, 1.0, &nb, &talloc, &err) == MM_EINVAL,
		  "nb: one class is invalid", "%s", err.msg);
	check(mm_nb_fit(4, 2, 2, X, ybad, gnum, 1e-9, 1.0, &nb, &talloc, &err) == MM_EINVAL,
		  "nb: class out of range is invalid", "%s", err.msg);
	check(mm_nb_fit(4, 2, 2, X, y, gnum, -1.0, 1.0, &nb, &talloc, &err) == MM_EINVAL,
		  "nb: negative var_smoothing is invalid", "%s", err.msg);
	check(mm_nb_fit(4, 2, 2, X, y, gcat, 1e-9, NAN, &nb, &talloc, &err) == MM_EINVAL,
		  "nb: NaN alpha is invalid", "%s", err.msg);
	check(mm_nb_fit(4, 2, 2, X, y, gbad, 1e-9, 1.0, &nb, &talloc, &err) == MM_EINVAL,
		  "nb: group below -1 is invalid", "%s", err.msg);
	X[2] = 0.5;
	gcat[0] = 0;
	gcat[1] = -1;
	check(mm_nb_fit(4, 2, 2, X, y, gcat, 1e-9, 1.0, &nb, &talloc, &err) == MM_EINVAL,
		  "nb: one-hot column that is not 0 or 1 is invalid", "%s", err.msg);
	check(mm_nb_fit(4, 2, 3, X, y, gnum, 1e-9, 1.0, &nb, &talloc, &err) == MM_ENODATA,
		  "nb: a class without rows is reported", "%s", err.msg);
	/* non-finite values: all-numeric columns (checked in the first pass) and mixed */
	X[5] = NAN;
	check(mm_nb_fit(4, 2, 2, X, y, gnum, 1e-9, 1.0, &nb, &talloc, &err) == MM_EINVAL &&
		  strcmp(err.msg, "non-finite value in row 2, column 1") == 0,
		  "nb: NaN in a numeric column is invalid and located", "%s", err.msg);
	X[5] = INFINITY;
	X[2] = -INFINITY;
	check(mm_nb_fit(4, 2, 2, X, y, gnum, 1e-9, 1.0, &nb, &talloc, &err) == MM_EINVAL &&
		  strcmp(err.msg, "non-finite value in row 1, column 0") == 0,
		  "nb: the first infinity in row order is reported", "%s", err.msg);
	gcat[0] = -1;
	gcat[1] = 0;
	X[2] = 2;
	X[5] = 0;
	X[4] = NAN;
	check(mm_nb_fit(4, 2, 2, X, y, gcat, 1e-9, 1.0, &nb, &talloc, &err) == MM_EINVAL &&
		  strcmp(err.msg, "non-finite value in row 2, column 0") == 0,
		  "nb: NaN beside a one-hot column is invalid and located", "%s", err.msg);
	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * Classification metrics
 * --------------------------------------------------------------------- */

static void
test_clsmetrics(void)
{
	MmClsMetrics m;
	MmClsResult r;
	double		p[2];
	bool		ok;
	int			i;

	mm_clsmetrics_init(&m, 4, &talloc);
	check(!mm_clsmetrics_result(&m, &r), "cls metrics: no rows gives no result",
		  "returned true");
	for (i = 0; i < 12; i++)
		mm_clsmetrics_add(&m, m3_y[i], m3_p[i]);
	if (check(mm_clsmetrics_result(&m, &r), "cls metrics K=4: result", "no result"))
	{
		check(r.n == 12 && fabs(r.accuracy - REF_METRICS3_ACCURACY) < 1e-15,
			  "cls metrics K=4: accuracy", "got %.17g", r.accuracy);
		check(fabs(r.precision - REF_METRICS3_PRECISION) < 1e-15,
			  "cls metrics K=4: macro precision, zero division 0", "got %.17g",
			  r.precision);
		check(fabs(r.recall - REF_METRICS3_RECALL) < 1e-15,
			  "cls metrics K=4: macro recall", "got %.17g", r.recall);
		check(fabs(r.f1 - REF_METRICS3_F1) < 1e-15,
			  "cls metrics K=4: macro f1", "got %.17g", r.f1);
		check(reldiff(r.log_loss, REF_METRICS3_LOG_LOSS, REF_METRICS3_LOG_LOSS) < 1e-14,
			  "cls metrics K=4: log loss (clipped, renormalised)", "got %.17g",
			  r.log_loss);
		check(isnan(r.roc_auc), "cls metrics K=4: no roc auc", "got %g", r.roc_auc);
	}

	mm_clsmetrics_init(&m, 2, &talloc);
	for (i = 0; i < 16; i++)
	{
		p[0] = 1.0 - m2_s[i];
		p[1] = m2_s[i];
		mm_clsmetrics_add(&m, m2_y[i], p);
	}
	if (check(mm_clsmetrics_result(&m, &r), "cls metrics K=2: result", "no result"))
	{
		check(fabs(r.accuracy - REF_METRICS2_ACCURACY) < 1e-15 &&
			  fabs(r.precision - REF_METRICS2_PRECISION) < 1e-15 &&
			  fabs(r.recall - REF_METRICS2_RECALL) < 1e-15 &&
			  fabs(r.f1 - REF_METRICS2_F1) < 1e-15,
			  "cls metrics K=2: accuracy, precision, recall, f1",
			  "got %.17g %.17g %.17g %.17g", r.accuracy, r.precision, r.recall, r.f1);
		check(reldiff(r.log_loss, REF_METRICS2_LOG_LOSS, REF_METRICS2_LOG_LOSS) < 1e-14,
			  "cls metrics K=2: log loss", "got %.17g", r.log_loss);
		check(fabs(r.roc_auc - REF_METRICS2_ROC_AUC) < 1e-15,
			  "cls metrics K=2: roc auc with ties", "got %.17g", r.roc_auc);
	}

	/* one class only: no roc auc */
	mm_clsmetrics_init(&m, 2, &talloc);
	p[0] = 0.3;
	p[1] = 0.7;
	mm_clsmetrics_add(&m, 1, p);
	mm_clsmetrics_add(&m, 1, p);
	ok = mm_clsmetrics_result(&m, &r);
	check(ok && isnan(r.roc_auc) && r.accuracy == 1.0,
		  "cls metrics: roc auc is NaN with one class", "got %g", r.roc_auc);
	track_reset(&tracker);
}

/* the parts of a fit over rows split between processes, summed in order */
typedef struct
{
	MmLogitPart *part[3];
	int			nparts;
	int			m;
	int			calls;
} LogitParts;

static double
sum_parts(void *arg, const double *theta, double *grad, double *H)
{
	LogitParts *lp = arg;
	double		loss = 0.0;
	double		g[16];
	double		h[256];

	lp->calls++;
	for (int i = 0; i < lp->nparts; i++)
	{
		double		l = mm_logit_part_eval(lp->part[i], theta, grad ? g : NULL, H ? h : NULL);

		loss = i == 0 ? l : loss + l;
		for (int j = 0; grad != NULL && j < lp->m; j++)
			grad[j] = i == 0 ? g[j] : grad[j] + g[j];
		for (int j = 0; H != NULL && j < lp->m * lp->m; j++)
			H[j] = i == 0 ? h[j] : H[j] + h[j];
	}
	return loss;
}

/*
 * A logistic fit whose passes are summed over three parts of the rows
 * (mm_logistic_fit_sum) is the fit of all of them: binary (iris versicolor
 * against virginica, l2) and three classes (l2), to 1e-10; and the
 * subsample start of the parts' every 16th rows.
 */
static void
test_logistic_parts(void)
{
	static const int cut[4] = {0, 41, 97, 150};
	int32_t		yb[100];
	MmErr		err = {{0}};
	MmStatus	st;

	for (int i = 0; i < 100; i++)
		yb[i] = iris_y[50 + i] - 1;
	for (int t = 0; t < 2; t++)
	{
		int			n = t == 0 ? 100 : 150;
		int			K = t == 0 ? 2 : 3;
		const double *X = t == 0 ? &iris_X[50][0] : &iris_X[0][0];
		const int32_t *y = t == 0 ? yb : iris_y;
		int			nsets = mm_logistic_nsets(K);
		MmLogisticParams lp = logit_params(2, 1.0, true);
		MmLogisticInfo info;
		LogitParts parts;
		double		coef[12],
					intercept[3],
					pcoef[12],
					pintercept[3];
		double		worst = 0.0;

		st = mm_logistic_fit(n, 4, K, X, y, &lp, coef, intercept, &info, NULL, &talloc, &err);
		if (!check(st == MM_OK, "logistic parts: the whole fit", "status %d: %s", st, err.msg))
			return;
		memset(&parts, 0, sizeof(parts));
		parts.nparts = 3;
		for (int i = 0; i < 3; i++)
		{
			int			a = cut[i] * n / 150;
			int			b = cut[i + 1] * n / 150;

			st = mm_logit_part_new(b - a, 4, K, X + (size_t) a * 4, y + a, &lp, NULL,
								   &parts.part[i], &talloc, &err);
		}
		parts.m = mm_logit_part_nparams(parts.part[0]);
		st = mm_logistic_fit_sum(n, 4, K, &lp, sum_parts, &parts, pcoef, pintercept, &info,
								 NULL, &talloc, &err);
		for (int k = 0; k < nsets; k++)
		{
			worst = fmax(worst, reldiff(pintercept[k], intercept[k], 1.0));
			for (int j = 0; j < 4; j++)
				worst = fmax(worst, reldiff(pcoef[k * 4 + j], coef[k * 4 + j], 1.0));
		}
		check(st == MM_OK && info.converged && parts.calls > 1 && worst < 1e-10 &&
			  parts.m == (t == 0 ? 5 : 15),
			  t == 0 ? "logistic parts: three parts fit the binary model of all rows" :
			  "logistic parts: three parts fit the multinomial model of all rows",
			  "status %d, %d passes, worst %g: %s", st, parts.calls, worst, err.msg);
	}

	/* a subsample start: below MM_LOGISTIC_SUBSAMPLE_MIN rows there is none */
	{
		MmLogisticParams lp = logit_params(2, 1.0, true);
		double		c[4],
					b[1];

		check(!mm_logistic_subsample_start(100, 7, 4, 2, &iris_X[50][0], yb, &lp, c, b, &talloc),
			  "logistic parts: no subsample start for few rows", "started");
		check(mm_logistic_subsample_start(1000000, 100, 4, 2, &iris_X[50][0], yb, &lp, c, b, &talloc) &&
			  isfinite(c[0]) && isfinite(b[0]),
			  "logistic parts: a subsample start for many rows", "none");
	}
	/* an empty part and bad parameters */
	{
		MmLogisticParams lp = logit_params(2, 1.0, true);
		MmLogisticParams bad = logit_params(2, -1.0, true);
		MmLogitPart *P;
		MmLogitPart *Q;

		st = mm_logit_part_new(0, 4, 2, NULL, NULL, &lp, NULL, &P, &talloc, &err);
		double		theta[5] = {0, 0, 0, 0, 0};
		double		g[5],
					h[25];

		check(P != NULL && mm_logit_part_eval(P, theta, g, h) == 0.0 && g[0] == 0.0 && h[0] == 0.0,
			  "logistic parts: an empty part adds nothing", "part %p", (void *) P);
		check(mm_logit_part_new(10, 4, 2, &iris_X[0][0], yb, &bad, NULL, &Q, &talloc, &err) == MM_EINVAL &&
			  Q == NULL && strstr(err.msg, "C must be positive") != NULL,
			  "logistic parts: a part with bad parameters is refused", "%s", err.msg);
		check(mm_logit_part_new(0, 200, 30, NULL, NULL, &lp, NULL, &Q, &talloc, &err) == MM_ELIMIT &&
			  Q == NULL && strstr(err.msg, "too many parameters") != NULL,
			  "logistic parts: a part with too many parameters for Newton is refused", "%s", err.msg);
		st = mm_logistic_fit_sum(0, 4, 2, &lp, sum_parts, NULL, theta, theta, NULL, NULL, &talloc, &err);
		check(st == MM_EINVAL && strstr(err.msg, "at least one row") != NULL,
			  "logistic parts: no rows is refused", "status %d: %s", st, err.msg);
	}
	track_reset(&tracker);
}

/*
 * The fit's one-pass statistics over parts of the rows (what parallel
 * workers do): the mixed gaussian + categorical iris problem split at rows
 * 0..37, 38..111 and 112..149, each part's statistics merged in order,
 * against the fit of all rows at once; the rows fed in other runs are the
 * same fit to the bit (the blocks are counted from the first row).
 */
static void
test_nb_acc(void)
{
	int32_t		group[5] = {-1, -1, 7, 7, 7};
	static const int cut[4] = {0, 38, 112, 150};
	double		X[150 * 5];
	MmNaiveBayes whole;
	MmNaiveBayes parts;
	MmNaiveBayes one;
	MmNbAcc		acc;
	MmNbAcc		part;
	MmErr		err = {{0}};
	MmStatus	st;
	bool		same = true;
	bool		ok = true;
	int			i;

	mixed_iris(X);
	check(mm_nb_acc_len(5, 3) == 48, "nb statistics: the length of the flat array",
		  "got %zu", mm_nb_acc_len(5, 3));
	st = mm_nb_fit(150, 5, 3, X, iris_y, group, 1e-9, 1.0, &whole, &talloc, &err);
	if (!check(st == MM_OK, "nb statistics: the whole fit", "status %d: %s", st, err.msg))
		return;

	/* three parts, merged in order */
	mm_nb_acc_init(&acc, 5, 3, group, &talloc);
	for (i = 0; i < 3; i++)
	{
		mm_nb_acc_init(&part, 5, 3, group, &talloc);
		st |= mm_nb_acc_rows(&part, X + 5 * cut[i], iris_y + cut[i], cut[i + 1] - cut[i],
							 cut[i], &err);
		mm_nb_acc_flush(&part);
		ok &= mm_nb_acc_merge_flat(&acc, part.s, 3, NULL);
	}
	st |= mm_nb_fit_acc(&acc, 3, 1e-9, 1.0, &parts, &talloc, &err);
	if (!check(st == MM_OK && ok, "nb statistics: the fit from three parts", "status %d: %s",
			   st, err.msg))
		return;
	check(worst_rel(parts.theta, whole.theta, 15) < 1e-15 &&
		  worst_rel(parts.var, whole.var, 15) < 1e-14 &&
		  worst_rel(parts.log_prob, whole.log_prob, 15) < 1e-15 &&
		  worst_rel(parts.log_prior, whole.log_prior, 3) < 1e-15 &&
		  reldiff(parts.epsilon, whole.epsilon, whole.epsilon) < 1e-14,
		  "nb statistics: three parts fit the model of all rows (up to rounding)",
		  "theta %g var %g", worst_rel(parts.theta, whole.theta, 15),
		  worst_rel(parts.var, whole.var, 15));

	/* the same rows in other runs: the same bits */
	mm_nb_acc_init(&acc, 5, 3, group, &talloc);
	for (i = 0; i < 3; i++)
		st |= mm_nb_acc_rows(&acc, X + 5 * cut[i], iris_y + cut[i], cut[i + 1] - cut[i],
							 cut[i], &err);
	mm_nb_acc_flush(&acc);
	st |= mm_nb_fit_acc(&acc, 3, 1e-9, 1.0, &one, &talloc, &err);
	for (i = 0; i < 15; i++)
		same &= one.theta[i] == whole.theta[i] && one.var[i] == whole.var[i] &&
			one.log_prob[i] == whole.log_prob[i];
	for (i = 0; i < 3; i++)
		same &= one.log_prior[i] == whole.log_prior[i];
	check(st == MM_OK && same && one.epsilon == whole.epsilon,
		  "nb statistics: the rows in other runs are the whole fit to the bit", "status %d", st);

	/* a part numbering the classes its own way (what[k]) */
	{
		static const int32_t what[3] = {2, 0, 1};
		int32_t		yp[150];

		for (i = 0; i < 150; i++)
			yp[i] = iris_y[i] == 0 ? 1 : iris_y[i] == 1 ? 2 : 0;
		mm_nb_acc_init(&part, 5, 3, group, &talloc);
		st = mm_nb_acc_rows(&part, X, yp, 150, 0, &err);
		mm_nb_acc_flush(&part);
		mm_nb_acc_init(&acc, 5, 3, group, &talloc);
		ok = mm_nb_acc_merge_flat(&acc, part.s, 3, what);
		st |= mm_nb_fit_acc(&acc, 3, 1e-9, 1.0, &one, &talloc, &err);
		same = st == MM_OK && ok && one.epsilon == whole.epsilon;
		for (i = 0; i < 15 && same; i++)
			same &= one.theta[i] == whole.theta[i] && one.var[i] == whole.var[i];
		check(same, "nb statistics: a part's own class numbers map to the model's", "status %d", st);
	}

	/* room for more classes as labels appear keeps what was added */
	mm_nb_acc_init(&acc, 5, 1, group, &talloc);
	mm_nb_acc_grow(&acc, 2);
	mm_nb_acc_grow(&acc, 3);
	st = mm_nb_acc_rows(&acc, X, iris_y, 150, 0, &err);
	mm_nb_acc_flush(&acc);
	st |= mm_nb_fit_acc(&acc, 3, 1e-9, 1.0, &one, &talloc, &err);
	check(st == MM_OK && acc.K >= 3 && one.var[7] == whole.var[7] && one.theta[5] == whole.theta[5],
		  "nb statistics: growing the classes", "status %d K %d", st, acc.K);

	/* a class without rows; a malformed part */
	mm_nb_acc_init(&acc, 5, 3, group, &talloc);
	st = mm_nb_acc_rows(&acc, X, iris_y, 50, 0, &err);
	mm_nb_acc_flush(&acc);
	st = mm_nb_fit_acc(&acc, 3, 1e-9, 1.0, &one, &talloc, &err);
	check(st == MM_ENODATA && strstr(err.msg, "class 1 has no rows") != NULL,
		  "nb statistics: a class without rows is an error", "status %d: %s", st, err.msg);
	acc.s[0] = 2.5;
	mm_nb_acc_init(&part, 5, 3, group, &talloc);
	check(!mm_nb_acc_merge_flat(&part, acc.s, 3, NULL),
		  "nb statistics: a part with a fractional count is refused", "merged");
	{
		int32_t		gnum[2] = {-1, -1};
		double		Xn[6] = {1, 2, 3, 4, 5, NAN};
		int32_t		yn[3] = {0, 1, 0};

		mm_nb_acc_init(&acc, 2, 2, gnum, &talloc);
		st = mm_nb_acc_rows(&acc, Xn, yn, 3, 40, &err);
		check(st == MM_EINVAL && strstr(err.msg, "row 42, column 1") != NULL,
			  "nb statistics: a non-finite value names its row from row0", "status %d: %s",
			  st, err.msg);
	}
	track_reset(&tracker);
}

/*
 * The one-pass variances against two passes in long double, on data far
 * from the origin (1e8 to 3e8 plus a spread of about 0.3), where a sum of
 * squares would lose every digit: 5000 rows (20 blocks) of 3 columns in 2
 * classes, fed in runs of 37 rows, and as two merged parts.  The means
 * are kept as doubles, so the relative error of a variance grows as the
 * rounding of a mean (1e-16 x mean / spread, here up to 1e9), never as
 * its square: below 1e-8 here, and at the rounding for data near 0.
 */
static void
test_nb_acc_offset(void)
{
	enum
	{
		N = 5000, P = 3
	};
	double	   *X = malloc(sizeof(double) * N * P);
	int32_t    *y = malloc(sizeof(int32_t) * N);
	int32_t		g[P] = {-1, -1, -1};
	long double ref_mean[2][P] = {{0}};
	long double ref_m2[2][P] = {{0}};
	long double cnt[2] = {0};
	MmNaiveBayes nb;
	MmNaiveBayes nb2;
	MmNbAcc		acc;
	MmNbAcc		a1;
	MmNbAcc		a2;
	MmErr		err = {{0}};
	MmStatus	st = MM_OK;
	double		worst = 0.0;
	double		worst2 = 0.0;
	uint64_t	seed = 12345;

	for (int i = 0; i < N; i++)
	{
		y[i] = (i * 7919) % 3 == 0;
		for (int j = 0; j < P; j++)
		{
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			X[i * P + j] = 1e8 * (j + 1) + (double) (seed >> 11) / 9007199254740992.0 + 0.5 * y[i];
		}
	}
	for (int i = 0; i < N; i++)
	{
		cnt[y[i]] += 1;
		for (int j = 0; j < P; j++)
			ref_mean[y[i]][j] += X[i * P + j];
	}
	for (int k = 0; k < 2; k++)
		for (int j = 0; j < P; j++)
			ref_mean[k][j] /= cnt[k];
	for (int i = 0; i < N; i++)
		for (int j = 0; j < P; j++)
		{
			long double d = X[i * P + j] - ref_mean[y[i]][j];

			ref_m2[y[i]][j] += d * d;
		}
	mm_nb_acc_init(&acc, P, 2, g, &talloc);
	for (int i = 0; i < N; i += 37)
		st |= mm_nb_acc_rows(&acc, X + i * P, y + i, N - i < 37 ? N - i : 37, i, &err);
	mm_nb_acc_flush(&acc);
	st |= mm_nb_fit_acc(&acc, 2, 0.0, 1.0, &nb, &talloc, &err);
	mm_nb_acc_init(&a1, P, 2, g, &talloc);
	mm_nb_acc_init(&a2, P, 2, g, &talloc);
	st |= mm_nb_acc_rows(&a1, X, y, 1999, 0, &err);
	st |= mm_nb_acc_rows(&a2, X + 1999 * P, y + 1999, N - 1999, 1999, &err);
	mm_nb_acc_flush(&a1);
	mm_nb_acc_flush(&a2);
	mm_nb_acc_merge_flat(&a1, a2.s, 2, NULL);
	st |= mm_nb_fit_acc(&a1, 2, 0.0, 1.0, &nb2, &talloc, &err);
	for (int k = 0; k < 2 && st == MM_OK; k++)
		for (int j = 0; j < P; j++)
		{
			double		ref = (double) (ref_m2[k][j] / cnt[k]);

			worst = fmax(worst, fabs(nb.var[k * P + j] - ref) / ref);
			worst2 = fmax(worst2, fabs(nb2.var[k * P + j] - ref) / ref);
			worst = fmax(worst, fabs(nb.theta[k * P + j] - (double) ref_mean[k][j]) /
						 (double) ref_mean[k][j]);
		}
	check(st == MM_OK && worst < 1e-8 && worst2 < 1e-8,
		  "nb statistics: variances 1e8 from the origin match two passes in long double",
		  "status %d worst %g (parts %g)", st, worst, worst2);
	free(X);
	free(y);
	track_reset(&tracker);
}

/*
 * Metrics streamed in parts and merged equal the metrics of one stream:
 * K = 2 (with the AUC's scores) split 5 + 11, and K = 4 split 7 + 5.
 */
static void
test_clsmetrics_merge(void)
{
	MmClsMetrics a;
	MmClsMetrics b;
	MmClsMetrics all;
	MmClsResult ra;
	MmClsResult rall;
	double		p[2];
	int			i;

	mm_clsmetrics_init(&a, 2, &talloc);
	mm_clsmetrics_init(&b, 2, &talloc);
	mm_clsmetrics_init(&all, 2, &talloc);
	for (i = 0; i < 16; i++)
	{
		p[0] = 1.0 - m2_s[i];
		p[1] = m2_s[i];
		mm_clsmetrics_add(i < 5 ? &a : &b, m2_y[i], p);
		mm_clsmetrics_add(&all, m2_y[i], p);
	}
	/* room reserved for every score first: the same metrics, one allocation */
	{
		MmClsMetrics r;
		MmClsResult rr;
		double	   *first;

		mm_clsmetrics_init(&r, 2, &talloc);
		mm_clsmetrics_reserve(&r, 16);
		first = r.scores;
		for (i = 0; i < 16; i++)
		{
			p[0] = 1.0 - m2_s[i];
			p[1] = m2_s[i];
			mm_clsmetrics_add(&r, m2_y[i], p);
		}
		check(mm_clsmetrics_result(&r, &rr) && mm_clsmetrics_result(&all, &rall) &&
			  r.capscores >= 16 && r.scores == first && rr.roc_auc == rall.roc_auc &&
			  rr.log_loss == rall.log_loss && rr.accuracy == rall.accuracy,
			  "cls metrics K=2: scores reserved at once give the same metrics",
			  "capacity %lld", (long long) r.capscores);
	}
	mm_clsmetrics_merge(&a, &b);
	if (check(mm_clsmetrics_result(&a, &ra) && mm_clsmetrics_result(&all, &rall),
			  "cls metrics merge K=2: result", "no result"))
		check(ra.n == 16 && a.nscores == 16 && ra.accuracy == rall.accuracy &&
			  ra.f1 == rall.f1 && ra.roc_auc == rall.roc_auc &&
			  fabs(ra.roc_auc - REF_METRICS2_ROC_AUC) < 1e-15 &&
			  reldiff(ra.log_loss, rall.log_loss, rall.log_loss) < 1e-15,
			  "cls metrics merge K=2: two parts give the metrics of one stream",
			  "auc %.17g and %.17g", ra.roc_auc, rall.roc_auc);

	/* sorted parts merge their keys; a sorted part may take rows and unsorted parts after */
	{
		MmClsMetrics c;
		static const int cuts[4][2] = {{0, 16}, {3, 9}, {16, 16}, {0, 0}};

		for (int t = 0; t < 4; t++)
		{
			mm_clsmetrics_init(&a, 2, &talloc);
			mm_clsmetrics_init(&b, 2, &talloc);
			mm_clsmetrics_init(&c, 2, &talloc);
			for (i = 0; i < 16; i++)
			{
				p[0] = 1.0 - m2_s[i];
				p[1] = m2_s[i];
				mm_clsmetrics_add(i < cuts[t][0] ? &a : i < cuts[t][1] ? &b : &c, m2_y[i], p);
				if (i == cuts[t][0] - 1)
					mm_clsmetrics_sort(&a);
			}
			mm_clsmetrics_sort(&b);
			if (t == 3)
			{
				/* a sorted state takes more rows, then an unsorted part */
				mm_clsmetrics_sort(&a);
				for (i = 0; i < 4; i++)
				{
					p[0] = 1.0 - m2_s[i];
					p[1] = m2_s[i];
					mm_clsmetrics_add(&c, m2_y[i], p);
				}
			}
			mm_clsmetrics_merge(&a, &b);
			mm_clsmetrics_merge(&a, &c);
			check(mm_clsmetrics_result(&a, &ra) && ra.n == 16 + (t == 3 ? 4 : 0) &&
				  (t == 3 || (ra.roc_auc == rall.roc_auc && ra.accuracy == rall.accuracy)) &&
				  (t != 3 || (ra.roc_auc > 0.0 && ra.roc_auc < 1.0)),
				  "cls metrics merge K=2: sorted parts give the AUC of one stream",
				  "case %d: auc %.17g and %.17g", t, ra.roc_auc, rall.roc_auc);
		}
		/* a NaN score in a sorted part: no AUC */
		mm_clsmetrics_init(&a, 2, &talloc);
		mm_clsmetrics_init(&b, 2, &talloc);
		p[0] = 0.5;
		p[1] = 0.5;
		mm_clsmetrics_add(&a, 0, p);
		mm_clsmetrics_add(&a, 1, p);
		p[1] = NAN;
		mm_clsmetrics_add(&b, 1, p);
		mm_clsmetrics_sort(&a);
		mm_clsmetrics_sort(&b);
		mm_clsmetrics_merge(&a, &b);
		check(mm_clsmetrics_result(&a, &ra) && isnan(ra.roc_auc) && a.nkeys[0] == 1 && a.nkeys[1] == 2,
			  "cls metrics merge K=2: a NaN score of a sorted part leaves no AUC",
			  "auc %g", ra.roc_auc);
	}

	mm_clsmetrics_init(&a, 4, &talloc);
	mm_clsmetrics_init(&b, 4, &talloc);
	for (i = 0; i < 12; i++)
		mm_clsmetrics_add(i < 7 ? &a : &b, m3_y[i], m3_p[i]);
	mm_clsmetrics_merge(&a, &b);
	if (check(mm_clsmetrics_result(&a, &ra), "cls metrics merge K=4: result", "no result"))
		check(ra.n == 12 && fabs(ra.accuracy - REF_METRICS3_ACCURACY) < 1e-15 &&
			  fabs(ra.f1 - REF_METRICS3_F1) < 1e-15 &&
			  reldiff(ra.log_loss, REF_METRICS3_LOG_LOSS, REF_METRICS3_LOG_LOSS) < 1e-14 &&
			  a.nscores == 0,
			  "cls metrics merge K=4: two parts give the reference metrics",
			  "accuracy %.17g", ra.accuracy);
	track_reset(&tracker);
}

/*
 * Scores s[n] with labels lab[n] through the metrics (the probability of
 * class 1 is the score), against the AUC of every positive-negative pair
 * (ties one half).
 */
static void
check_auc(const double *s, const int *lab, int n, const char *what)
{
	MmClsMetrics m;
	MmClsResult r;
	double		p[2];
	double		wins = 0.0;
	double		npos = 0.0;
	double		want;
	bool		ok;

	mm_clsmetrics_init(&m, 2, &talloc);
	for (int i = 0; i < n; i++)
	{
		p[0] = 1.0 - s[i];
		p[1] = s[i];
		mm_clsmetrics_add(&m, lab[i], p);
	}
	for (int i = 0; i < n; i++)
	{
		if (!lab[i])
			continue;
		npos += 1.0;
		for (int j = 0; j < n; j++)
			if (!lab[j])
				wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
	}
	want = wins / (npos * (n - npos));
	ok = mm_clsmetrics_result(&m, &r);
	check(ok && m.nscores == n && fabs(r.roc_auc - want) < 1e-15,
		  what, "got %.17g want %.17g", r.roc_auc, want);
	track_reset(&tracker);
}

/* Many rows (buffer growth), scores on a coarse grid so that ties are many. */
static void
test_roc_growth(void)
{
	int			n = 3001;
	double	   *s = mm_alloc0(&talloc, sizeof(double) * n);
	int		   *lab = mm_alloc0(&talloc, sizeof(int) * n);

	rng_state = UINT64_C(0x0123456789ABCDEF);
	for (int i = 0; i < n; i++)
	{
		lab[i] = rng_unif() < 0.4;
		s[i] = floor((rng_unif() + 0.3 * lab[i]) * 20.0) / 20.0;
	}
	check_auc(s, lab, n, "cls metrics: roc auc of 3001 tied scores equals the pairwise count");
}

/*
 * Scores of every sign and scale (the radix keys' order), -0 and +0 as
 * one score, and distinct scores next to ties.
 */
static void
test_roc_keys(void)
{
	static const double special[] = {-0.0, 0.0, -1e300, 1e300, -5e-324, 5e-324,
	-1.0, 1.0, 0.5, 0.5000000000000001, 0.49999999999999994, -2.5};
	int			n = 5000;
	double	   *s = mm_alloc0(&talloc, sizeof(double) * n);
	int		   *lab = mm_alloc0(&talloc, sizeof(int) * n);

	rng_state = UINT64_C(0xFEDCBA9876543210);
	for (int i = 0; i < n; i++)
	{
		double		u = rng_unif();

		lab[i] = rng_unif() < 0.3;
		if (u < 0.3)
			s[i] = special[(int) (rng_unif() * 12) % 12];
		else if (u < 0.6)
			s[i] = (rng_unif() - 0.45 + 0.2 * lab[i]) * pow(10.0, floor(rng_unif() * 40.0) - 20.0);
		else
			s[i] = rng_unif() + 0.1 * lab[i];
	}
	check_auc(s, lab, n,
			  "cls metrics: roc auc of signed, tiny, huge and -0/+0 scores equals the pairwise count");
}

static int
cmp_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/*
 * mm_sort_doubles against libc's qsort: the same values in the same order
 * (-0 and +0 compare equal; the sort gives +0), for sizes around the
 * switch from insertion to radix, with the scores of test_roc_keys (every
 * sign and scale, ties, infinities) and with values that share their
 * high digits (a skipped radix pass).
 */
static void
test_sort_doubles(void)
{
	static const double special[] = {-0.0, 0.0, -1e300, 1e300, -5e-324, 5e-324,
		-1.0, 1.0, 0.5, 0.5000000000000001, -INFINITY, INFINITY};
	static const int sizes[] = {0, 1, 2, 31, 32, 33, 100, 2000, 40000};

	rng_state = UINT64_C(0x0123456789ABCDEF);
	for (int k = 0; k < (int) (sizeof(sizes) / sizeof(sizes[0])); k++)
		for (int kind = 0; kind < 2; kind++)
		{
			int			n = sizes[k];
			double	   *v = mm_alloc0(&talloc, sizeof(double) * (n + 1));
			double	   *ref = mm_alloc0(&talloc, sizeof(double) * (n + 1));
			uint64_t   *tmp = mm_alloc0(&talloc, sizeof(uint64_t) * (n + 1));
			int			bad = -1;
			int			negzero = 0;
			char		name[128];

			for (int i = 0; i < n; i++)
			{
				double		u = rng_unif();

				if (kind == 1)
					v[i] = 1000.0 + floor(rng_unif() * 64.0) / 64.0;
				else if (u < 0.3)
					v[i] = special[(int) (rng_unif() * 12) % 12];
				else if (u < 0.6)
					v[i] = (rng_unif() - 0.45) * pow(10.0, floor(rng_unif() * 40.0) - 20.0);
				else
					v[i] = rng_unif() - 0.5;
			}
			memcpy(ref, v, sizeof(double) * n);
			qsort(ref, n, sizeof(double), cmp_doubles);
			mm_sort_doubles(v, n, tmp);
			for (int i = 0; i < n; i++)
			{
				negzero += v[i] == 0.0 && signbit(v[i]);
				if (bad < 0 && !(v[i] == ref[i]))
					bad = i;
			}
			snprintf(name, sizeof(name), "sort doubles: %d %s values as qsort orders them, no -0",
					 n, kind ? "clustered" : "mixed");
			check(bad < 0 && negzero == 0, name, "first difference at %d (%.17g vs %.17g), %d -0",
				  bad, bad >= 0 ? v[bad] : 0.0, bad >= 0 ? ref[bad] : 0.0, negzero);
		}
}

int
main(void)
{
	test_logistic_binary();
	test_logistic_separable();
	test_logistic_multi();
	test_logistic_invalid();
	test_logistic_blocks();
	test_logistic_subsample();
	test_logistic_parts();
	test_gnb();
	test_gnb_avx2();
	test_cnb();
	test_mixed_nb();
	test_nb_invalid();
	test_nb_acc();
	test_nb_acc_offset();
	test_clsmetrics();
	test_clsmetrics_merge();
	test_roc_growth();
	test_roc_keys();
	test_sort_doubles();
	track_destroy(&tracker);
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed > 0 ? 1 : 0;
}
