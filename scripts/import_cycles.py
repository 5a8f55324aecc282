#!/usr/bin/env python3
"""Import cycles between the files of each crate (issue 16: none allowed).

A file's module imports another when it names `crate::a::b` or `super::…` (in `use` or in code),
resolved to the longest module path that is a file. Comments, test modules and imports of a
file's own ancestors (`crate::FeatureError` from lib.rs) are not edges. Prints each cycle (a
strongly connected set of files) and exits 1 if there is one.

    python3 scripts/import_cycles.py src crates/*/src
"""
import os,re,sys
from collections import defaultdict
def modules(src):
    mods={}
    for root,_,files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'): continue
            p=os.path.join(root,f); rel=os.path.relpath(p,src)[:-3].split(os.sep)
            if rel[-1] in ('mod','lib','main'): rel=rel[:-1]
            mods[tuple(rel)]=p
    return mods
def analyse(src):
    mods=modules(src); g=defaultdict(set)
    for m,p in mods.items():
        text=open(p).read()
        text=re.sub(r'//[^\n]*','',text)
        text=re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*','',text,flags=re.S)
        # crate:: paths and super:: paths, incl. grouped use
        for mm in re.finditer(r'\b(crate|super(?:::super)*)((?:::\w+)+)(::\{([^}]*)\})?',text):
            base=[]
            if mm.group(1)=='crate': base=[]
            else:
                n=mm.group(1).count('super')
                ismod=p.endswith('mod.rs') or p.endswith('lib.rs')
                base=list(m) if ismod else list(m[:-1])
                base=base[:len(base)-(n-1)] if n>1 else base
            parts=base+[x for x in mm.group(2).split('::') if x]
            cands=[parts]
            if mm.group(4):
                for item in mm.group(4).split(','):
                    item=item.strip().split('::')[0].split(' ')[0]
                    if item: cands.append(parts+[item])
            for c in cands:
                for k in range(len(c),0,-1):
                    t=tuple(c[:k])
                    if t in mods:
                        if t!=m and not (len(t)<len(m) and m[:len(t)]==t) : g[m].add(t)
                        break
    # tarjan
    idx={};low={};st=[];on=set();res=[];i=[0]
    def sc(v):
        idx[v]=low[v]=i[0];i[0]+=1;st.append(v);on.add(v)
        for w in g[v]:
            if w not in idx: sc(w);low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],idx[w])
        if low[v]==idx[v]:
            comp=[]
            while True:
                w=st.pop();on.discard(w);comp.append(w)
                if w==v:break
            if len(comp)>1: res.append(comp)
    sys.setrecursionlimit(10000)
    for v in list(mods): 
        if v not in idx: sc(v)
    return res
found = 0
for src in sys.argv[1:]:
    for comp in analyse(src):
        found += 1
        print(src, ' <-> '.join('/'.join(c) or 'lib' for c in comp))
sys.exit(1 if found else 0)
