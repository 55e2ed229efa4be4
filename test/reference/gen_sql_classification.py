# Writes sql/09_classification.sql from test/reference/sql_classification.sql.in,
# filling in the reference numbers of test/reference/sql_classification.out.
# Run from the repository root: python3 test/reference/gen_sql_classification.py
ref={}
for line in open('test/reference/sql_classification.out'):
    if line.startswith('#') or not line.strip(): continue
    k,v=line.split(' ',1); ref[k]=v.strip()
hdr=open('data/breast_cancer.csv').readline().strip().split(',')
bc_cols=",\n\t".join(c+" float8" for c in hdr[:-1])
def vals(prefix, keys):
    return ",\n  ".join("('%s', %s)" % (k, ref[prefix+k]) for k in keys)
R=lambda k: ref[k]
lr_w=",\n  ".join("('%s', '%s', %s)" % (c,f,R('iris_lr.'+c+'.'+f)) for c in ['setosa','versicolor','virginica'] for f in ['intercept','sepal_length','sepal_width','petal_length','petal_width'])
def pr(prefix,i): return "ARRAY[%s, %s, %s]" % (R(prefix+'.proba.row%d.setosa'%i), R(prefix+'.proba.row%d.versicolor'%i), R(prefix+'.proba.row%d.virginica'%i))
nb_rows=",\n  ".join("(%d, %s)" % (i, pr('iris_nb',i)) for i in (1,71,84,134))
sql = open('test/reference/sql_classification.sql.in').read()
for k,v in {'@BC_COLS@':bc_cols,'@LR_W@':lr_w,'@LR_P1@':pr('iris_lr',1),'@LR_P51@':pr('iris_lr',51),'@LR_P101@':pr('iris_lr',101),
            '@NB_ROWS@':nb_rows,'@IRIS2@':vals('iris2_none.',['intercept','sepal_length','sepal_width','petal_length','petal_width'])}.items():
    sql=sql.replace(k,v)
import re
sql=re.sub(r'@R\(([^)]*)\)@', lambda m: R(m.group(1)), sql)
open('sql/09_classification.sql','w').write(sql)
