#!/bin/sh
test_description='kg-load on a full disk: a clear error, exit 1, the store as it was

The store lives on a 96 MiB tmpfs (RocksDB preallocates 70 MiB for a WAL)
that a filler file leaves 0 to 1024 KiB free of. Both ways a load is applied are tried (one SST ingest for a big input, one
WriteBatch for a small one), and the open itself on a disk with no room. After
the filler is removed, loading again gives the store a clean load gives. Needs
root to mount the tmpfs; skipped otherwise.'
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || test_skip_all "needs root to mount a small tmpfs (run make check as root)"
mkdir mnt && mount -t tmpfs -o size=96m tmpfs mnt 2>mount.err ||
	test_skip_all "cannot mount a tmpfs here: $(head -n 1 mount.err)"
trap 'umount "$TRASH_DIRECTORY/mnt" 2>/dev/null' EXIT

FB=$LING_DATA/fb15k-slice.nt.zst

# fill_to KB: a filler file leaves about KB KiB free on mnt.
fill_to() {
	rm -f mnt/fill &&
	avail=$(df -k mnt | awk "NR == 2 { print \$4 }") &&
	if [ "$avail" -gt "$1" ]; then
		dd if=/dev/zero of=mnt/fill bs=1k count=$((avail - $1)) 2>/dev/null || :
	fi
}

# store_state STORE OUT: what the store holds (dump and counts, not the size on disk).
store_state() {
	kg-query --store "$1" --dump | sort >"$2" &&
	kg-stat --store "$1" --top 0 | grep -v "^disk " >>"$2"
}

test_expect_success 'setup: a store with a prior load, and a clean reference load' '
	printf "<http://e/s> <http://e/p> \"prior\" .\n<http://e/s> <http://www.w3.org/2000/01/rdf-schema#label> \"S\"@en .\n" >prior.nt &&
	awk "BEGIN { for (i = 0; i < 3000; i++) printf \"<http://e/s%d> <http://e/p> \\\"value %d\\\" .\n\", i, i }" >mid.nt &&
	kg-load --store mnt/kg prior.nt &&
	store_state mnt/kg before &&
	kg-load --store clean prior.nt "$FB" mid.nt &&
	store_state clean clean.state
'

# full_load FREE_KB INPUT: the load fails cleanly and leaves the store as it was.
full_load() {
	fill_to "$1" &&
	test_must_fail_with 1 kg-load --store mnt/kg "$2" 2>err &&
	cat err &&
	grep -E "^kg-load: mnt/kg: .*no space left on device$" err &&
	grep -E "^kg-load: read 0, wrote 0, rejected 0; failed: .*no space left on device$" err &&
	! grep -i assert err &&
	rm -f mnt/fill &&
	store_state mnt/kg now &&
	test_cmp before now &&
	! ls mnt/kg | grep ling-ingest
}

for free in 0 8 16 64 256 1024; do
	test_expect_success "big load (SST ingest) with $free KiB free: error, exit 1, store intact" "
		full_load $free \"\$FB\"
	"
done

for free in 0 16 256; do
	test_expect_success "small load (WriteBatch) with $free KiB free: error, exit 1, store intact" "
		full_load $free mid.nt
	"
done

test_expect_success 'with the space freed, the same loads give what a clean load gives' '
	rm -f mnt/fill &&
	kg-load --store mnt/kg "$FB" mid.nt 2>err &&
	grep "^kg-load: read 18335, wrote 18335, rejected 0$" err &&
	store_state mnt/kg after &&
	test_cmp clean.state after
'

test_expect_success 'cleanup: unmount' '
	umount mnt
'

test_done
