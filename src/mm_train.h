/*
 * mm_train.h
 *	  Training internals shared by mm_train.c (one fit), mm_search.c
 *	  (hyper-parameter search with cross-validation) and mm_ensemble.c
 *	  (ensembles and stacking).
 */
#ifndef MM_TRAIN_H
#define MM_TRAIN_H

#include "massmodel.h"

#include "portability/instr_time.h"

/* the params of one training, defaults filled in */
typedef struct MmTrainParams
{
	int64		seed;
	bool		verbose;
	int			scale;			/* MmScale */
	int			impute;			/* MmImpute */
	bool		fit_intercept;
	double		alpha;			/* ridge: penalty; naive_bayes: smoothing */
	int			penalty;		/* logistic: 0 or 2 */
	double		C;
	int			max_iter;
	double		tol;
	double		var_smoothing;
	int			k;				/* kmeans */
	int			init;			/* kmeans: 0 k-means++, 1 random */
	int			n_init;			/* kmeans */
	int			n_components;	/* pca; 0: every encoded column */
	bool		whiten;			/* pca */
	MmMlpParams mlp;			/* mlp (its seed is seed) */
	int			task;			/* mlp: 0 from the target's type, or MmTask */
	bool		warm_start;		/* mlp, logistic_regression */
	double		l1_ratio;		/* elastic_net (lasso: 1) */
	struct MmStack *stack;		/* stacking: members and final model */
} MmTrainParams;

/* one member configuration of a stacking */
typedef struct MmStackMember
{
	char	   *pin;			/* 'name@N' of a model, or NULL when inline */
	int			algorithm;
	MmTrainParams params;
} MmStackMember;

/* what a stacking fits: member configurations, refit per fold, and a final model */
typedef struct MmStack
{
	int			nmembers;
	MmStackMember *members;
	int			final_alg;		/* 0 until the task is known */
	MmTrainParams final_params;
	Jsonb	   *final_json;		/* final_params as given, or NULL */
	int			cv;
	int			task;			/* 0 until known */
} MmStack;

/*
 * A hyper-parameter search: the candidates (every one parsed and checked
 * before any row is read) and how they are scored.
 */
typedef struct MmSearch
{
	bool		random;			/* "search": "random" (else grid) */
	int			cv;				/* folds */
	int			n_iter;			/* random: candidates sampled */
	int64		grid_size;		/* combinations of the dimensions */
	int			ncand;
	MmTrainParams *cand;		/* ncand */
	char	  **cand_json;		/* ncand: the searched values, a JSON object */
	int			best;			/* after MmSearchRun */
	Jsonb	   *table;			/* after MmSearchRun: the search table */
} MmSearch;

extern double MmElapsedMs(instr_time start);
extern bytea *MmModelBlob(const MmModel *m, const char *model);
extern Jsonb *MmParamsJsonb(int algorithm, const MmTrainParams *p);
extern void MmParseParams(Jsonb *params, int algorithm, MmTrainParams *p);
extern bool MmParseSearch(Jsonb *params, int algorithm, MmSearch *s, MmTrainParams *p);
extern void MmFitMatrix(const char *model, int algorithm, const MmTrainParams *p,
						MmModel *m, const double *X, const double *y, int64 nt,
						const MmModel *prev, double **pca_ratio);
extern double MmPrimaryScore(const MmModel *m, const double *X, const double *y, int64 n);
extern int32 *MmFolds(const double *u, const double *y, int64 n, bool classifier, int k);
extern void MmSearchRun(const char *model, int algorithm, MmSearch *s, const MmModel *schema,
						const double *X, const double *y, const double *u, int64 nt);
extern void MmFoldSplit(const double *X, const double *y, const int32 *fold, int f,
						int64 nt, uint32 p, double *Xtr, double *ytr, int64 *ntr,
						double *Xte, double *yte, int64 *nte);
extern void MmFitFold(const char *model, int algorithm, const MmTrainParams *p, MmModel *fm,
					  double *Xtr, const double *ytr, int64 ntr, double *Xte, int64 nte);
extern void MmCheckFolds(const char *model, const MmModel *schema, const double *y,
						 int64 nt, int k);

/* mm_fusion.c: stacking */
extern void MmParseStacking(Jsonb *params, MmTrainParams *p, MmStack *st);
extern void MmStackResolveTask(MmStack *st, int task);
extern Jsonb *MmStackParamsJsonb(const MmTrainParams *p);
extern void MmFitStacking(const char *model, const MmStack *st, MmModel *m, const double *X,
						  const double *y, const double *u, int64 nt);

#endif							/* MM_TRAIN_H */
