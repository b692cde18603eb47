#!/usr/bin/env python3
"""The critical path of a nextpnr log, each step with the source line of the
synthesised cell behind it (LUTs from ABC carry none; carries and flip-flops
do) and the register a LUT feeds. Needs a netlist written without Yosys's
autoname pass, as scripts/up5k_fmax_seeds.sh writes it.

    python3 scripts/nextpnr_path.py <dir with synth.json> [<pnr.log>]
"""
import json,re,sys
O=sys.argv[1]; log=sys.argv[2] if len(sys.argv)>2 else O+'/pnr.log'
d=json.load(open(O+'/synth.json'))
top=[k for k,v in d['modules'].items() if v['attributes'].get('top')][0]
m=d['modules'][top]
cells=m['cells']
names={}
for n,v in m['netnames'].items():
    for i,b in enumerate(v['bits']):
        if isinstance(b,int) and not n.startswith('$'): names.setdefault(b,[]).append(n+('[%d]'%i if len(v['bits'])>1 else ''))
# LUT output bit -> DFF fed by it
dff_by_d={}
for c,v in cells.items():
    if v['type'].startswith('SB_DFF'): dff_by_d[v['connections']['D'][0]]=c
L=open(log).read().split('\n')
i=[k for k,l in enumerate(L) if 'Critical path report for clock' in l][-1]
for l in L[i+1:]:
    if 'Critical path report' in l or l.strip()=='Info:': break
    mm=re.search(r'(clk-to-q|logic|setup)\s+(\S+)\s+(\S+)\s+Source (\S+)$',l.strip())
    if not mm: continue
    kind,dt,t,cn=mm.groups(); cn=cn.rsplit('.',1)[0]
    base=re.sub(r'(_LC|_DFFLC|\$CARRY)$','',cn)
    info=[]
    if base in cells:
        v=cells[base]; src=v['attributes'].get('src','').split('|')[0]
        info.append(v['type']+' '+src)
        if v['type']=='SB_LUT4':
            o=v['connections']['O'][0]
            if o in dff_by_d:
                f=cells[dff_by_d[o]]; info.append('-> '+f['type']+' '+f['attributes'].get('src','').split('|')[0]+' '+str(names.get(f['connections']['Q'][0],[])[:1]))
        if v['type'].startswith('SB_DFF'):
            info.append(str(names.get(v['connections']['Q'][0],[])[:1]))
    print(kind,dt,t,cn[-45:],'|',' '.join(info))
