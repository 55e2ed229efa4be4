/*
 * massmodel.h
 *	  Declarations shared by the PostgreSQL glue of massmodel.
 *
 * The glue is thin: it reads rows, checks privileges, talks to the catalog
 * in schema mm and turns the core's status codes into ereport().  The
 * numeric work lives in src/core (mm_core.h), which never sees postgres.h.
 */
#ifndef MASSMODEL_H
#define MASSMODEL_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "nodes/params.h"
#include "portability/instr_time.h"
#include "tcop/dest.h"
#include "lib/stringinfo.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"

#include "mm_core.h"

#define MM_EXTENSION_NAME	"massmodel"
#define MM_CATALOG_SCHEMA	"mm"
#define MM_MAX_MODEL_NAME	63
#define MM_MAX_FEATURE_ARGS 90	/* feature columns one train can read */
/*
 * Does the SQL layer train and predict with this algorithm?  An algorithm
 * the core and the blob format know before its glue exists stays out of
 * this range, and mm_train calls it unavailable.  (Every algorithm the
 * blob format holds can be predicted with: lasso and elastic_net models are
 * linear, so mm_import and the model loader need no such check.)
 */
static inline bool
MmAlgorithmInSql(int algorithm)
{
	return algorithm >= MM_ALG_LINEAR_REGRESSION && algorithm <= MM_ALG_ELASTIC_NET;
}

/*
 * Whether n doubles are all finite.  A value is not finite when its
 * exponent bits are all ones: then, and only then, adding one to the
 * exponent field carries into the sign bit.  Four lanes, or-ed: no chain
 * of compares through the row (the direct reads check every value).  The
 * lanes are two registers of two (GCC and Clang's vector extension), so
 * that the values go from the row into registers without a copy through
 * the stack.
 */
#if defined(__GNUC__)
typedef uint64 MmU64x2 __attribute__((vector_size(16)));
#endif

static inline bool
MmAllFinite(const double *v, int n)
{
	const uint64 e = UINT64CONST(0x7FF0000000000000);
	const uint64 one = UINT64CONST(1) << 52;
	uint64		m = 0;
	int			i = 0;

#if defined(__GNUC__)
	MmU64x2		ev = {e, e},
				onev = {one, one},
				m01 = {0, 0},
				m23 = {0, 0};

	for (; i + 4 <= n; i += 4)
	{
		MmU64x2		b01,
					b23;

		memcpy(&b01, v + i, sizeof(b01));
		memcpy(&b23, v + i + 2, sizeof(b23));
		m01 |= (b01 & ev) + onev;
		m23 |= (b23 & ev) + onev;
	}
	m01 |= m23;
	m = m01[0] | m01[1];
#endif
	for (; i < n; i++)
	{
		uint64		b;

		memcpy(&b, v + i, sizeof(b));
		m |= (b & e) + one;
	}
	return (m >> 63) == 0;
}

/* The task of an algorithm's models (mlp: regression here; its target decides). */
static inline int
MmAlgorithmTask(int algorithm)
{
	int			task = mm_algorithm_task(algorithm);

	return task != 0 ? task : MM_TASK_REGRESSION;
}

/* GUCs (massmodel.c) */
extern int	mm_max_train_memory_kb;
extern int	mm_blas_threads;
extern int	mm_cache_models;
extern bool mm_direct_scan;
extern bool mm_huge_pages;

/* ---------------------------------------------------------------------
 * Prediction statistics (mm_stat.c)
 * --------------------------------------------------------------------- */

/* a version's counts in this backend since its statement began */
typedef struct MmStatPending
{
	int64		model_id;
	int32		version;
	bool		active;			/* predicted in the current statement */
	bool		inflight;		/* a prediction has begun and not ended */
	int64		rows;
	instr_time	start;			/* the statement's first prediction */
	struct MmStatPending *next;
} MmStatPending;

extern bool mm_track;
extern void MmStatInit(void);
extern MmStatPending *MmStatPendingFor(int64 model_id, int32 version);
extern void MmProgressStart(const char *model, const char *algorithm);
extern void MmProgressPhase(const char *phase);
extern void MmProgressRows(int64 rows);
extern void MmProgressIteration(int epoch, int epochs, double loss);
extern void MmProgressEnd(void);

/* Around one prediction: the clock only at a statement's first. */
static inline void
MmStatBegin(MmStatPending *p)
{
	if (p == NULL)
		return;
	if (!p->active)
	{
		p->active = true;
		INSTR_TIME_SET_CURRENT(p->start);
	}
	p->inflight = true;
}

static inline void
MmStatEnd(MmStatPending *p)
{
	if (p == NULL)
		return;
	p->rows++;
	p->inflight = false;
}

/* massmodel.c: the allocator and error mapping for the core */
extern const MmAlloc *MmPallocAllocator(void);
extern MmAlloc MmContextAllocator(MemoryContext cxt);
extern void MmSetBlasThreads(void);

#define MM_HUGE_PAGE ((Size) 2 * 1024 * 1024)
extern void MmAdviseHuge(void *p, Size len);
extern void *MmAllocLarge(MemoryContext cxt, Size size);
extern void *MmAllocHugeAligned(MemoryContext cxt, Size size);
extern void MmAppendJsonNumber(StringInfo buf, double v);
extern void MmAppendJsonNumbers(StringInfo buf, const double *v, int n);
extern Jsonb *MmJsonbWithKey(Jsonb *obj, const char *key, Jsonb *value);
extern double MmNumericDouble(Numeric n);
extern char *MmQuoteLiteral(const char *s);
extern bool MmJsonbNextPair(JsonbIterator **it, char **key, JsonbValue *v);

/* The index of the largest of n values (the first on ties, as numpy's argmax). */
static inline int
MmArgmax(const double *v, uint32 n)
{
	int			best = 0;

	for (uint32 k = 1; k < n; k++)
		if (v[k] > v[best])
			best = (int) k;
	return best;
}
extern void MmReportCoreError(MmStatus status, const MmErr *err,
							  const char *model) pg_attribute_noreturn();

/* ---------------------------------------------------------------------
 * Catalog (mm_catalog.c)
 * --------------------------------------------------------------------- */

/* one row of mm.models, as seen by the glue */
typedef struct MmModelRow
{
	int64		id;
	Oid			owner;
	char	   *task;
	int32		deployed_version;	/* 0 when none */
	int32		canary_version; /* 0 when no canary */
	double		canary_traffic; /* its share of predictions, in (0, 1) */
	int32		latest_version;
	Acl		   *acl;			/* NULL: nothing granted */
} MmModelRow;

/* privileges on a model: the owner role and its members hold them all; mm_grant gives the first three */
typedef enum MmPrivilege
{
	MM_PRIV_PREDICT,
	MM_PRIV_TRAIN,
	MM_PRIV_DEPLOY,
	MM_PRIV_OWNER
} MmPrivilege;

/* run catalog SQL as the owner of schema mm; pair every Begin with End */
typedef struct MmCatalogCtx
{
	Oid			save_userid;
	int			save_sec_context;
	int			guc_level;
} MmCatalogCtx;

extern void MmCatalogBegin(MmCatalogCtx *ctx);
extern void MmCatalogEnd(MmCatalogCtx *ctx);

extern void MmCheckModelName(const char *name);
extern bool MmLookupModel(const char *name, MmModelRow *row, bool lock);
extern void MmGetModel(const char *name, MmModelRow *row, bool lock);
extern void MmCheckPrivilege(const char *name, const MmModelRow *row,
							 MmPrivilege priv, Oid caller);
extern bool MmHasPrivilege(Oid owner, const Acl *acl, MmPrivilege priv, Oid role);
extern AclMode MmPrivilegeMode(MmPrivilege priv);
extern void MmAudit(const char *action, const char *model, int64 model_id, Oid owner,
					int32 version, const char *detail, Oid by);
extern int64 MmVersionUid(int64 model_id, int32 version, bool fresh);
extern int64 MmRequireVersion(int64 model_id, int32 version, const char *name,
							  bool fresh);
extern bytea *MmFetchBlob(int64 uid, int32 version, const char *name);
extern int32 MmResolveVersion(const char *name, const MmModelRow *row,
							  bool version_isnull, int32 version);
extern void MmRecordDeployment(int64 model_id, int32 version,
							   const char *kind, const char *reason, Oid by);
extern void MmRecordDeploymentTraffic(int64 model_id, int32 version, const char *kind,
									  const char *reason, double traffic, Oid by);
extern void MmSetCanary(int64 model_id, int32 version, double traffic);
extern void MmSetDeployed(int64 model_id, int32 version);
extern char *MmSpiGetText(int row, int col);
extern Jsonb *MmSpiJsonbCopy(Datum d);

/* mm_train.c: storing a version (also used by mm_import) */
#define MM_DEPLOY_POLICY_ALWAYS		0
#define MM_DEPLOY_POLICY_NEVER		1
#define MM_DEPLOY_POLICY_IF_BETTER	2
extern bool MmStoreVersion(const char *model, int algorithm, int task, int policy,
						   Jsonb *params, Jsonb *features, const char *target,
						   Jsonb *metrics, double primary, int64 n_train,
						   double train_ms, const char *source, double test_fraction,
						   bytea *blob, const char *action, Jsonb *profile,
						   int32 *version_out);
extern Jsonb *MmFeaturesJsonb(const MmModel *m);
/* mm_parkm.c: a k-means fit with parallel workers where the rows are enough */
extern MmStatus MmKMeansFit(int64 n, int p, const double *X, const MmKMeansParams *params,
							double *centers, MmKMeansInfo *info, const MmProgress *progress,
							MmErr *err, int *workers);
extern int	MmKMeansWorkers(int64 n, int p, const MmKMeansParams *params);

/* mm_drift.c: the training profile of a version */
struct MmDataset;
extern Jsonb *MmProfileDataset(const struct MmDataset *ds);
/* the profile of kept rows in parts, one per process that kept rows */
typedef struct MmProfilePart MmProfilePart;
extern int64 MmProfileStep(int64 rows);
extern int	MmProfilePositions(const MmModel *m, int *pos);
extern MmProfilePart *MmProfilePartBegin(const int *pos, int npos, int64 rows, int64 step);
extern void MmProfilePartRows(MmProfilePart *pp, const double *rows, int64 n, int d);
extern double *MmProfilePartEnd(MmProfilePart *pp, Size *len);
extern bool MmProfilePartValid(const double *part, Size len, int npos, int64 rows);
extern Jsonb *MmProfileFromParts(const MmModel *m, double *const *parts, int nparts,
								 const char *from);
#define MM_SILHOUETTE_SAMPLE 10000	/* rows the silhouette is computed on, at most */
extern Jsonb *MmClusteringMetrics(const MmModel *m, const double *Xs, int64 ns, uint64 seed,
								  const char *on, double *primary);

/* ---------------------------------------------------------------------
 * Sources and feature schemas (mm_schema.c)
 * --------------------------------------------------------------------- */

typedef enum MmColKind
{
	MM_COL_FLOAT8,				/* numeric scalar, read as float8 */
	MM_COL_BOOL,				/* boolean, read as 0/1 */
	MM_COL_ARRAY,				/* float4[]/float8[], read as float8[] */
	MM_COL_TEXT					/* text, varchar, char, name, enum: categorical */
} MmColKind;

typedef struct MmSourceCol
{
	char	   *name;
	Oid			typid;			/* base type */
	MmColKind	kind;
	uint32		width;			/* 1, or the array length once known */
} MmSourceCol;

typedef struct MmSource
{
	char	   *text;			/* as the user gave it */
	char	   *from_sql;		/* "schema.rel" or "(query) AS s" */
	TupleDesc	tupdesc;		/* of SELECT * FROM source */
	Oid			relid;			/* the named table or view; InvalidOid: a query */
} MmSource;

extern void MmOpenSource(const char *source, MmSource *src);
extern int	MmFindColumn(const MmSource *src, const char *name);
extern void MmClassifyColumn(const MmSource *src, int attno, bool is_target,
							 MmSourceCol *col);
extern char *MmColumnExpr(const MmSourceCol *col);
extern char *MmFeatureColumnName(const MmModel *m, uint32 col);
extern uint32 MmReadArray(ArrayType *arr, uint32 width, double *out,
						  const char *what);
extern void MmReadArrayNulls(ArrayType *arr, uint32 width, double *out,
							 const char *what, bool nulls_ok);
extern int	MmClassifyTarget(const MmSource *src, int attno, bool classification,
							 MmSourceCol *col);

/* ---------------------------------------------------------------------
 * The direct read of a plain table (mm_scan.c)
 * --------------------------------------------------------------------- */

typedef struct MmRescanShared MmRescanShared;

typedef struct MmScan
{
	Relation	rel;
	struct TableScanDescData *scan;
	int			n;				/* values per row: target, then the columns */
	AttrNumber *attnum;			/* n: the table's attribute of each */
	int		   *conv;			/* n: how it becomes the query's Datum */
	int		   *off;			/* n: its offset in a tuple without NULLs */
	int		   *len;			/* n: its length there (attlen) */
	bool		fixed;			/* those offsets are valid */
	int			f8from;			/* values f8from .. n - 1 are all double precision */
	int			f8contig;		/* and f8contig .. n - 1 (>= f8from) sit side by side */
	int			maxatt;			/* the last attribute read */
	int			natts;
	Datum	   *dvalues;		/* a deformed tuple */
	bool	   *dnulls;
	int64		rows;
	double		est_rows;		/* the planner's estimate of the table's rows; 0: none */
	/* the runs of consecutive pages read, for MmScanRescan */
	BlockNumber *run_start;
	BlockNumber *run_len;
	int64		nruns;
	int64		maxruns;
	struct SnapshotData *snapshot;	/* the backend's read: the snapshot it is under */
	bool		rescanning;		/* MmScanRescan began */
	struct TableScanDescData *first;	/* the first read's scan then, if still open */
	/* the pages of the read (first or again) as MmScanNextPage takes them */
	bool		paging;			/* set up (MmScanPages) */
	struct ParallelBlockTableScanDescData *alloc;	/* a parallel read's allocation */
	struct ParallelBlockTableScanWorkerData *work;	/* and this process's part */
	int64		run;			/* the run a read again reads */
	BlockNumber next_block;		/* the next page, and the end of the run */
	BlockNumber end_block;
	int			ntuples;		/* the visible tuples of its page, and the next one */
	int			tupindex;
	HeapTupleData tuple;		/* the tuple it returned last */
	/* a parallel read's claims of its pages for a shared read again */
	struct MmRescanShared *shared;
	struct MmRescanShared *steal;	/* taking others' pages at the end of one */
	uint32		take_word;		/* the word of claims looked at, its unclaimed bits */
	uint32		take_bits;
	bool		finite;			/* the float8 values of the last row were all finite */
} MmScan;

extern bool MmScanBegin(MmScan *s, const MmSource *src, const MmSourceCol *target,
						int label_type, const MmSourceCol *cols, int ncols);
extern bool MmScanNext(MmScan *s, Datum *values, bool *nulls);
extern bool MmScanNextFloat8(MmScan *s, double *row, int *null_col);
extern bool MmScanNextTargetRow(MmScan *s, Datum *target, bool *tnull, double *row,
								int *null_col);
extern int	MmScanPageRows(MmScan *s, Datum *target, double *rows, int max);
extern int64 MmScanExpect(const MmScan *s, double share);
extern void MmScanRescan(MmScan *s, bool shared);
/* the targets of k rows of a second read at index i of their block; a block of n rows from row0 */
typedef void (*MmRescanLabelFn) (void *arg, const Datum *target, int k, int i);
typedef void (*MmRescanTakeFn) (void *arg, const double *rows, int n, int64 row0);
extern int64 MmScanRescanBlocks(MmScan *s, int64 n, bool shared, int block, int d,
								MmRescanLabelFn label, MmRescanTakeFn take, void *arg);
extern bool MmScanChunkDone(const MmScan *s);
extern void MmScanEnd(MmScan *s);

/* the direct read with parallel workers (mm_scan.c) */
typedef struct MmScanPar MmScanPar;
struct shm_mq_handle;

#define MM_PAR_LINEAR_STATS	1	/* a worker's kind: mm_linear_stats's rows */
#define MM_PAR_DATASET		2	/* a worker's kind: a dataset of its rows (mm_pardata.c) */

#define MM_PAR_NONE			0	/* MmScanParallelReceive's results */
#define MM_PAR_MESSAGE		1
#define MM_PAR_FINISHED		2
#define MM_PAR_ALL_DONE		3

extern int	MmScanWorkers(const MmScan *s);
extern MmScanPar *MmScanParallelBegin(MmScan *s, int nworkers, int kind,
									  const void *args, Size argslen);
extern int	MmScanParallelLaunched(const MmScanPar *p);
extern int	MmScanParallelReceive(MmScanPar *p, int *worker, void **data, Size *len);
extern void MmScanParallelWait(void);
typedef void (*MmScanTakeFn) (void *arg, int worker, const void *data, Size len);
extern void MmScanParallelCollect(MmScanPar *p, MmScanTakeFn take, void *arg);
extern void MmScanParallelFailed(MmScanPar *p, int worker) pg_attribute_noreturn();
extern void MmScanParallelSendTo(MmScanPar *p, int worker, const void *head, Size headlen,
								 const void *data, Size len);
extern void MmScanParallelEnd(MmScanPar *p, MmScan *s);
extern void MmScanParallelAwait(struct shm_mq_handle *in, void **data, Size *len);
extern void MmScanParallelSend(struct shm_mq_handle *mq, const void *head, Size headlen,
							   const void *data, Size len);

/* ---------------------------------------------------------------------
 * Training rows in memory (mm_dataset.c)
 * --------------------------------------------------------------------- */

#define MM_DATASET_MAX_LEVELS 1000	/* distinct values of a categorical */

/* a string dictionary: id -> string, string -> id */
typedef struct MmDict
{
	MemoryContext cxt;
	int32		n;
	int32		cap;
	int32		limit;
	char	  **strs;
	uint32	   *lens;
	uint32		nslots;
	int32	   *slots;
} MmDict;

typedef struct MmDataset
{
	MemoryContext cxt;
	int			label_type;		/* MM_LABEL_NONE for regression */
	int			ncols;			/* feature columns */
	const MmSourceCol *cols;
	const MmSourceCol *target;
	bool		impute;			/* NULLs allowed (stored as NaN) */
	bool		has_null;
	bool		direct;			/* read straight from the table (mm_scan.c) */
	uint64		seed;
	bool		split;			/* compute split numbers (u) */
	int64		max_bytes;
	int64		expect;			/* rows expected, 0: unknown (sizes the chunks) */
	double	   *hv;				/* a row's values for the split hash */
	int		   *off;			/* ncols + 1: offsets of columns in a raw row */
	uint32	   *width;			/* ncols: raw values of each column */
	int			rawd;			/* raw values per row */
	MmDict	   *dicts;			/* ncols: categorical values */
	MmDict		labels;			/* classifier labels */
	int32	   *label_order;	/* class index -> label id */
	int64		n;
	int64		cap;
	double	  **chunks;			/* raw rows, chunk_rows per chunk */
	int64		chunk_rows;
	int64		maxchunks;
	double	   *y;				/* n: target value, or class index after split */
	double	   *u;				/* n: split numbers; NULL unless split */
	bool	   *heldout;		/* n */
	int64		n_train;
	int32	  **levelmap;		/* per categorical column: dictionary id -> level */
	uint32	   *encoff;			/* ncols + 1: offsets in an encoded row */

	/*
	 * A naive Bayes read that keeps no rows (stream): each row is folded into
	 * the statistics of its label as it is read, and the scoring reads the
	 * pages of scan again (MmScanRescan); y, u and the chunks stay empty.
	 */
	bool		stream;
	MmNbAcc    *nbacc;			/* by label id */
	MmScan	   *scan;			/* the direct read, open until the scoring */
	int32	   *class_of;		/* label id -> class, once split */
	int64	   *label_keys;		/* label id -> its value, once spelt out */
} MmDataset;

/* the raw values of row r */
static inline double *
MmRawRow(const MmDataset *ds, int64 r)
{
	return ds->chunks[r / ds->chunk_rows] + (r % ds->chunk_rows) * ds->rawd;
}

/* training rows held by parallel workers (mm_pardata.c) */
typedef struct MmDataPar MmDataPar;

extern int32 MmDictIntern(MmDict *d, const char *s, size_t len);
extern int32 MmInternValue(MmDict *d, const char *s, size_t len, const char *column,
						   bool label);
extern void MmReceiverInit(DestReceiver *r,
						   bool (*receive) (TupleTableSlot *slot, DestReceiver *self));
extern void MmReadInto(const char *sql, ParamListInfo params, DestReceiver *dest);
extern void MmDatasetInit(MmDataset *ds, const MmSourceCol *target,
						  const MmSourceCol *cols, int ncols, int label_type,
						  bool impute, uint64 seed, bool split, int64 max_bytes);
extern void MmDatasetAddRow(MmDataset *ds, const Datum *values, const bool *nulls);
extern bool MmDatasetReadRows(MmDataset *ds, MmScan *scan, int64 max);
extern void MmDatasetScalarLayout(MmDataset *ds);
extern void MmDatasetStream(MmDataset *ds, MmScan *scan);
extern int64 *MmDatasetLabelKeys(const MmDataset *ds);
typedef void (*MmDatasetRunFn) (const MmDataset *ds, int64 r, int64 n, void *arg);
extern void MmDatasetRuns(const MmDataset *ds, bool heldout, int64 max, MmDatasetRunFn fn,
						  void *arg);
extern void MmDatasetRead(MmDataset *ds, const MmSource *src,
						  const MmSourceCol *target, const MmSourceCol *cols,
						  int ncols, int label_type, bool impute, uint64 seed,
						  bool split, int64 max_bytes, MmDataPar **par, bool stream);
extern void MmDatasetSplit(MmDataset *ds, double test_fraction);
extern void MmDatasetClasses(MmDataset *ds, int32 *rank);
extern double MmSplitCut(double *uk, int64 nk, double test_fraction, int64 *take);
extern void MmDatasetHoldOut(MmDataset *ds, int32 K, const double *cut,
							 const int64 *atcut);
extern void MmSortDoubles(double *v, int64 n);
extern void MmDatasetPrepare(MmDataset *ds, MmModel *m, int impute);
extern void MmDatasetFitScale(MmModel *m, double *X, int64 n, int scale,
							  bool keep_onehot);
extern void MmDatasetEncode(const MmDataset *ds, const MmModel *m, int64 r,
							double *x);
extern double *MmDatasetMatrix(const MmDataset *ds, const MmModel *m,
							   bool heldout, int64 *nrows, double **y, bool share);
extern void MmReportNonFinite(const char *column, double v) pg_attribute_noreturn();

/* the training rows of a classifier held by parallel workers (mm_pardata.c) */
extern MmDataPar *MmDataParRead(MmDataset *ds, MmScan *scan, int nworkers);
extern int	MmDataParWorkers(const MmDataPar *dp);
extern void MmDataParSplit(MmDataPar *dp, MmDataset *ds, double test_fraction,
						   int64 *n, int64 *n_train, int64 *train_k);
extern Jsonb *MmDataParProfile(MmDataPar *dp, const MmDataset *ds, const MmModel *m);
extern void MmDataParNbFit(MmDataPar *dp, const MmDataset *ds, MmModel *m,
						   const int32 *group, double var_smoothing, double alpha,
						   const char *model);
extern void MmDataParScale(MmDataPar *dp, const MmDataset *ds, MmModel *m, int scale);
extern MmStatus MmDataParLogisticFit(MmDataPar *dp, const MmDataset *ds, MmModel *m,
									 const MmLogisticParams *lp, MmLogisticInfo *info,
									 const MmProgress *progress, MmErr *err);
extern void MmDataParScore(MmDataPar *dp, MmDataset *ds, const MmModel *m,
						   const char *model, bool heldout, MmClsMetrics *met,
						   Jsonb **profile);
extern void MmDataParEnd(MmDataPar *dp);
extern void MmDataParWorker(MmScan *scan, char **names, const void *args,
							struct shm_mq_handle *mq, struct shm_mq_handle *in);

/* ---------------------------------------------------------------------
 * The linear statistics aggregate (mm_agg.c)
 * --------------------------------------------------------------------- */
typedef struct MmLinStats
{
	int			d;				/* 1 + encoded features */
	int			nargs;			/* feature columns */
	const int32 *widths;		/* per feature column */
	double		n;				/* training rows */
	double	   *mean;			/* d */
	double	   *C;				/* d*d, upper triangle */
	int64		heldout_n;		/* rows held out */
	bool		kept_all;		/* test_fraction 0: heldout keeps every row */
	bool		heldout_complete;	/* all held-out (kept_all: all) rows are in heldout */
	int64		heldout_kept;
	const double *heldout;		/* heldout_kept rows of d values */
} MmLinStats;

/*
 * Where the one transition state of a serial train keeps its rows: set by
 * mm_train around the scan (mm_lin_sink), claimed by the first state.
 */
typedef struct MmLinSink
{
	MemoryContext cxt;
	uint64		generation;		/* distinct for every sink offered */
	bool		claimed;
	int			d;
	double	   *rows;			/* n rows of d values */
	int64		n;
	int64		cap;
	int64		expect;			/* rows it will likely take (0: unknown) */
} MmLinSink;

extern MmLinSink *mm_lin_sink;
extern uint64 mm_lin_sink_generation;
extern void MmLinStateUnpack(bytea *state, const MmLinSink *sink, MmLinStats *out);
typedef struct MmLinPar MmLinPar;
extern bytea *MmLinStatsDirect(MmScan *scan, char **names, uint64 seed,
							   double test_fraction, int64 max_memory, MmLinSink *sink,
							   int *workers, MmLinPar **lpar, int64 *rescan_rows);
extern int64 MmLinParKept(const MmLinPar *lp);
extern int64 MmScoreRescan(MmScan *scan, const MmModel *m, int64 n, bool shared, int d,
						   MmRegMetrics *met, MmProfilePart *pp);
extern void MmScoreRows(const MmModel *m, const double *rows, int64 n, int d,
						MmRegMetrics *met, MmProfilePart *pp);
extern void MmLinParScore(MmLinPar *lp, const MmModel *m, int64 step, int64 total,
						  const int *pos, int npos);
extern int64 MmLinParCollect(MmLinPar *lp, MmRegMetrics *met, double **parts);
extern void MmLinStatsWorker(MmScan *scan, char **names, const void *args,
							 struct shm_mq_handle *mq, struct shm_mq_handle *in);

/* ---------------------------------------------------------------------
 * Reading (target, features) rows of a source (mm_evaluate.c)
 * --------------------------------------------------------------------- */

typedef enum MmRowFilter
{
	MM_ROWS_ALL,
	MM_ROWS_HELDOUT				/* rows mm_split_u() puts in the held-out set */
} MmRowFilter;

/*
 * What mm_evaluate measures of a clustering model while it streams a
 * source: the row count and inertia of every row, and a uniform sample
 * (reservoir, seeded) of at most MM_SILHOUETTE_SAMPLE scaled rows for the
 * silhouette.
 */
typedef struct MmClusterScore
{
	int64		n;
	double		inertia;
	int64		kept;
	double	   *sample;			/* MM_SILHOUETTE_SAMPLE * ncols */
	MmRng		rng;
} MmClusterScore;

extern void MmScoreOverSource(const MmModel *m, const char *model_name,
							  MmSource *src, MmRowFilter filter,
							  uint64 seed, double test_fraction,
							  MmRegMetrics *reg, MmClsMetrics *cls, int64 *unseen,
							  MmClusterScore *clu);
extern Jsonb *MmClusteringJsonb(int64 n, double inertia, double silhouette, const char *on);
extern Jsonb *MmRegressionMetricsJsonb(const MmRegResult *r, const char *on);
extern void MmModelProba(const MmModel *m, const double *x, double *proba);
extern double MmModelValue(const MmModel *m, const double *x);
extern double *MmPredictWork(const MmModel *m);
extern Jsonb *MmClassificationMetricsJsonb(const MmModel *m, const MmClsMetrics *met,
										   const MmClsResult *r, const char *on);

/* ---------------------------------------------------------------------
 * Prediction (mm_predict.c)
 * --------------------------------------------------------------------- */
extern const MmModel *MmLoadModel(const char *name, bool version_isnull,
								  int32 version, int64 *model_id_out,
								  int32 *version_out);

#endif							/* MASSMODEL_H */
