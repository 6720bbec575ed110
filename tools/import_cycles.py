#!/usr/bin/env python3
"""Import cycles between the files of src/ (issue 11).

Builds a file-level graph from `crate::`, `super::` and `self::` paths (unit-test
modules and comments left out), drops edges into `mod.rs`/`lib.rs` (they are
re-export hubs: a file naming `crate::born::BornOptions` depends on
`born/options.rs`, which the hub only re-exports), and prints every strongly
connected component of more than one file. Run from the repository root:
`python3 tools/import_cycles.py`; exits 1 when there is a cycle.
"""
import os,re,sys
root='src'
files={}
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p=os.path.join(d,f); files[p]=open(p).read()
def modpath(p):
    rel=os.path.relpath(p,root)[:-3].split('/')
    if rel[-1] in('mod','lib'): rel=rel[:-1]
    return rel
mods={tuple(modpath(p)):p for p in files}
def resolve(parts):
    # longest prefix that is a module file
    for k in range(len(parts),-1,-1):
        if tuple(parts[:k]) in mods: return mods[tuple(parts[:k])]
    return None
edges={p:set() for p in files}
for p,s in files.items():
    me=modpath(p)
    s2=re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*',"",s,flags=re.S)  # drop unit tests
    s2=re.sub(r'//.*','',s2)
    for m in re.finditer(r'\b(crate|super|self)((?:::\w+)+)',s2):
        head,rest=m.group(1),m.group(2).split('::')[1:]
        if head=='crate': parts=rest
        elif head=='self':
            parts=me+rest
        else:
            # `super` is the parent module, for `x/y.rs` (module x::y) and for
            # `x/y/mod.rs` (also module x::y) alike.
            parts=me[:-1]+rest
        # handle chained super::super
        q=resolve(parts)
        if q and q!=p: edges[p].add(q)
    # use { braces }: crate::{a, b::c}
    for m in re.finditer(r'use\s+crate::\{([^;]*)\};',s2,flags=re.S):
        for item in re.split(r',',m.group(1)):
            item=item.strip().split('::')
            item=[x for x in item if re.match(r'^\w+$',x)]
            q=resolve(item)
            if q and q!=p: edges[p].add(q)
# ignore edges into mod.rs/lib.rs (re-export hubs) 
def hub(p): return os.path.basename(p) in ('mod.rs','lib.rs')
E2={p:{q for q in v if not hub(q)} for p,v in edges.items()}
# tarjan
sys.setrecursionlimit(10000)
idx={};low={};st=[];on=set();sccs=[];c=[0]
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in E2[v]:
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: sccs.append(comp)
for v in E2:
    if v not in idx: sc(v)
print(len(files),'files', sum(len(v) for v in E2.values()),'edges')
for comp in sccs: print('CYCLE:',sorted(comp))
if not sccs: print('no cycles between non-hub files')
sys.exit(1 if sccs else 0)
