"""Minimal WFDB .atr reader (format described in ../shared/data/README.md): (sample, code) pairs."""
import struct, sys, statistics
def read_atr(path):
    data=open(path,'rb').read()
    t=0; out=[]; i=0
    while i+2<=len(data):
        w=struct.unpack_from('<H',data,i)[0]; i+=2
        code=w>>10; inc=w&0x3ff
        if w==0: break
        if code==59:
            hi,lo=struct.unpack_from('<HH',data,i); i+=4
            t+= (hi<<16)|lo; continue
        if code==63:
            n=inc; i+= n + (n&1); continue
        if code in (60,61,62): continue
        t+=inc
        out.append((t,code))
    return out
BEATS={1,2,3,4,5,6,7,8,9,10,11,12,13,34,35,38}
def beats(path, fs=128.0):
    a=[(t,c) for t,c in read_atr(path) if c in BEATS]
    return [t/fs for t,_ in a],[c for _,c in a]
