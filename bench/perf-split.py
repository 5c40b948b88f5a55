"""Split the samples below template_file::load_document in folded perf stacks.

Usage: perf script -i perf.data | inferno-collapse-perf > x.folded
       python3 bench/perf-split.py < x.folded

Groups each stack by what it runs below the loader: saphyr-parser (the YAML tokenizer),
jsonc-parser (the JSON tokenizer), our tree building for each, the YAML dialect checks
(the Unicode scan, libyaml-safer's second reading), Serverless fragments and alias
budget. Prints each group's share of the loader's samples and the ratio of the YAML tree
to the YAML tokenizer (issue 23: the loader's target is >= 90% of the tokenizer's speed,
a ratio <= 0.11).
"""
import sys,collections
tot=0; c=collections.Counter(); allt=0
for line in sys.stdin:
    stack,n=line.rsplit(' ',1); n=int(n); allt+=n
    fr=stack.split(';')
    idx=[j for j,f in enumerate(fr) if 'template_file::load_document' in f]
    if not idx: continue
    tot+=n
    below=fr[max(idx)+1:]
    s=';'.join(below)
    if 'lenient' in s: k='dialects (libyaml)'
    elif 'next_event' in s or 'saphyr' in s: k='saphyr tokenizer'
    elif 'jsonc_parser' in s: k='jsonc tokenizer'
    elif 'json::' in s: k='json tree'
    elif 'unicode_character' in s or 'memchr3' in s: k='dialects (scan)'
    elif 'serverless' in s or 'alias_budget' in s: k='serverless/aliases'
    else: k='yaml tree'
    c[k]+=n
print('all samples', allt, 'load_document', tot, '%.1f%%'%(100*tot/allt))
for k,v in c.most_common(): print('  %-20s %5.1f%%'%(k,100*v/tot))
print('  yaml tree/tokenizer = %.3f'%(c['yaml tree']/c['saphyr tokenizer']))
