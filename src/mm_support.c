/*
 * mm_support.c
 *	  The planner support function of mm_predict.
 *
 * mm_predict(m, ARRAY[a, b, c]) builds an array for every row before the
 * model sees it, and mm_predict(m, t) a composite value of the whole row:
 * both cost more than the prediction.  At plan time this support function
 * rewrites such calls into mm_predict_fields (mm_predict.c), which takes
 * the values as separate arguments, so nothing is built per row and JIT
 * can compile the argument evaluation:
 *
 *	 mm_predict(m, ARRAY[a, b], v)	->	mm_predict_fields(m, v, NULL, a, b)
 *	 mm_predict(m, t, v)			->	mm_predict_fields(m, v, '{x,y}', t.x, t.y)
 *
 * The second passes every column of the table with its name, so it does
 * not depend on the model's features, which may change between planning
 * and execution (a deploy); the mapping by name still happens at
 * execution.  A ROW(...) expression (also what a view's row becomes) is
 * passed the same way with its column names; an anonymous ROW(a, b) has
 * the names f1, f2 and maps by position, as it does unrewritten.
 * Anything else (a parameter, a function's result) is left as it is.
 */
#include "massmodel.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/planmain.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(mm_predict_support);

#define MM_FIELDS_MAX_VALUES (FUNC_MAX_ARGS - 3)

/* mm_predict_fields(text, int, text[], VARIADIC "any") in the schema nsp. */
static Oid
MmFieldsFunction(Oid nsp)
{
	Oid			argtypes[4] = {TEXTOID, INT4OID, TEXTARRAYOID, ANYOID};
	char	   *nspname = get_namespace_name(nsp);

	if (nspname == NULL)
		return InvalidOid;
	return LookupFuncName(list_make2(makeString(nspname), makeString("mm_predict_fields")),
						  4, argtypes, true);
}

/* Is an array element type one mm_predict_fields reads as a number? */
static bool
MmIsNumericType(Oid typid)
{
	switch (typid)
	{
		case FLOAT8OID:
		case FLOAT4OID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
			return true;
		default:
			return false;
	}
}

/* The columns of the table behind a whole-row Var, or NIL. */
static List *
MmWholeRowFields(PlannerInfo *root, Var *wr, Node **names_out)
{
	RangeTblEntry *rte;
	Relation	rel;
	TupleDesc	desc;
	List	   *vars = NIL;
	Datum	   *names;
	int			n = 0;

	if (root == NULL || wr->varlevelsup != 0 || wr->varno < 1 ||
		wr->varno > list_length(root->parse->rtable))
		return NIL;
	rte = rt_fetch(wr->varno, root->parse->rtable);
	if (rte->rtekind != RTE_RELATION || wr->vartype != get_rel_type_id(rte->relid))
		return NIL;

	/* the parser holds a lock on the relation */
	rel = table_open(rte->relid, NoLock);
	desc = RelationGetDescr(rel);
	names = palloc(sizeof(Datum) * Max(desc->natts, 1));
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (att->attisdropped)
			continue;
		if (n == MM_FIELDS_MAX_VALUES)
		{
			table_close(rel, NoLock);
			return NIL;
		}
		vars = lappend(vars, makeVar(wr->varno, att->attnum, att->atttypid,
									 att->atttypmod, att->attcollation, 0));
		names[n++] = CStringGetTextDatum(NameStr(att->attname));
	}
	table_close(rel, NoLock);
	if (n == 0)
		return NIL;
	*names_out = (Node *) makeConst(TEXTARRAYOID, -1, InvalidOid, -1,
									PointerGetDatum(construct_array(names, n, TEXTOID, -1,
																	false, TYPALIGN_INT)),
									false, false);
	return vars;
}

/*
 * The fields of a ROW(...) expression (a view's or subquery's row is one
 * after the planner pulls it up), named from its column names or its
 * composite type; NIL when there are too many.
 */
static List *
MmRowExprFields(RowExpr *re, Node **names_out)
{
	int			n = list_length(re->args);
	Datum	   *names;
	bool	   *nulls;
	TupleDesc	desc = NULL;
	int			dims[1];
	int			lbs[1] = {1};

	if (n < 1 || n > MM_FIELDS_MAX_VALUES)
		return NIL;
	if (re->colnames == NIL)
	{
		if (re->row_typeid == RECORDOID)
			return NIL;
		desc = lookup_rowtype_tupdesc(re->row_typeid, -1);
		if (desc->natts != n)
		{
			ReleaseTupleDesc(desc);
			return NIL;
		}
	}
	names = palloc(sizeof(Datum) * n);
	nulls = palloc0(sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		if (desc == NULL)
			names[i] = CStringGetTextDatum(strVal(list_nth(re->colnames, i)));
		else if (TupleDescAttr(desc, i)->attisdropped)
			nulls[i] = true;
		else
			names[i] = CStringGetTextDatum(NameStr(TupleDescAttr(desc, i)->attname));
	}
	if (desc)
		ReleaseTupleDesc(desc);
	dims[0] = n;
	*names_out = (Node *) makeConst(TEXTARRAYOID, -1, InvalidOid, -1,
									PointerGetDatum(construct_md_array(names, nulls, 1, dims, lbs,
																	   TEXTOID, -1, false,
																	   TYPALIGN_INT)),
									false, false);
	return re->args;
}

/* mm_predict_support(internal): SupportRequestSimplify for mm_predict. */
Datum
mm_predict_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *call;
	FuncExpr   *fields;
	Node	   *x;
	Node	   *names = NULL;
	List	   *values = NIL;
	Oid			fn;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	call = req->fcall;
	if (list_length(call->args) != 3)
		PG_RETURN_POINTER(NULL);
	x = lsecond(call->args);

	if (IsA(x, ArrayExpr))
	{
		ArrayExpr  *ae = (ArrayExpr *) x;

		if (ae->multidims || !MmIsNumericType(ae->element_typeid) ||
			list_length(ae->elements) < 1 ||
			list_length(ae->elements) > MM_FIELDS_MAX_VALUES)
			PG_RETURN_POINTER(NULL);
		values = ae->elements;
		names = (Node *) makeNullConst(TEXTARRAYOID, -1, InvalidOid);
	}
	else if (IsA(x, Var) && ((Var *) x)->varattno == InvalidAttrNumber)
		values = MmWholeRowFields(req->root, (Var *) x, &names);
	else if (IsA(x, RowExpr))
		values = MmRowExprFields((RowExpr *) x, &names);
	if (values == NIL)
		PG_RETURN_POINTER(NULL);

	/*
	 * The rewrite must not let a role past a revoked EXECUTE: leave calls
	 * the caller may not make as they are, to fail at execution.
	 */
	if (pg_proc_aclcheck(call->funcid, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		PG_RETURN_POINTER(NULL);
	fn = MmFieldsFunction(get_func_namespace(call->funcid));
	if (!OidIsValid(fn) || pg_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		PG_RETURN_POINTER(NULL);
	/* a cached plan is invalidated by changes to mm_predict too */
	if (req->root != NULL)
		record_plan_function_dependency(req->root, call->funcid);
	fields = makeFuncExpr(fn, FLOAT8OID,
						  list_concat(list_make3(linitial(call->args), lthird(call->args), names),
									  values),
						  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	fields->location = call->location;
	PG_RETURN_POINTER(fields);
}
