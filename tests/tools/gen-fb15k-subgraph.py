#!/usr/bin/env python3
"""gen-fb15k-subgraph.py: the FB15k-237 fixture of the kg2samples tests.

Usage: python3 /work/shared/tools/fb15k237_to_nt.py FB15k-237.tar.gz entity2wikidata.json |
       gen-fb15k-subgraph.py 0.4 | zstd -19 > tests/data/fb15k237-subgraph.nt.zst

Keeps the entities whose CRC-32 of their IRI falls in the lowest SHARE of the
range, the relation triples among them and their rdfs:label lines: an induced
subgraph on a random 40% of the entities keeps ~16% of the triples but stays
connected enough for every query pattern (a random sample of triples does
not). Drops the other label-like lines (aliases, descriptions, links).
The converter leaves the tar's CR at the end of each object IRI ("%0D>"); it
is removed here.
"""
import sys
import zlib

LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
FB = "<http://rdf.freebase.com/ns/"


def main():
    share = float(sys.argv[1]) if len(sys.argv) > 1 else 0.4
    limit = int(share * 2**32)

    def keep(iri):
        return zlib.crc32(iri.encode("utf-8")) < limit

    for line in sys.stdin:
        line = line.replace("%0D> .\n", "> .\n")
        s, p, rest = line.split(" ", 2)
        if p == LABEL:
            if keep(s):
                sys.stdout.write(line)
        elif p.startswith(FB):
            o = rest.rsplit(" .", 1)[0]
            if keep(s) and keep(o):
                sys.stdout.write(line)


if __name__ == "__main__":
    main()
