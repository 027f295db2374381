/*
 * Normalisation, shingles, MinHash signatures and LSH bucket keys (see
 * dedup.h for the definitions). Normal forms come from ling_unicode; the near
 * form takes its character classes from ICU (u_charType, u_tolower, u_isdigit).
 *
 * Most samples are ASCII: both normal forms have a byte loop for ASCII text
 * that gives what the ICU path gives (NFD, NFKC and case folding of ASCII are
 * lower-casing at most), and the ICU path runs only for text with other
 * characters. tests/unit/test_dedup.c checks that the two agree.
 */
#include "dedup_internal.h"

#include "../common/ling_rand.h"
#include "../common/ling_unicode.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/utf16.h>
#define XXH_INLINE_ALL /* inlined: hundreds of short hashes per record */
#include <xxhash.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DEDUP_HAVE_AVX2 1
#include <immintrin.h>
#endif

#include "../common/banned.h"

struct dedup_hasher {
	struct dedup_params p;
	int nperm;
	uint64_t *a, *b;        /* h_i(x) = ((a_i x + b_i) mod 2^64) >> 32 */
	uint32_t *ahi32;        /* a >> 32, each block of 8 in the order 0 4 1 5 2 6 3 7 (AVX2) */
	int use_avx2;
	struct ling_unicode uni; /* ICU scratch */
	struct ling_buf norm;   /* a normal form */
	uint64_t *words;        /* word hashes */
	size_t words_cap;
	uint32_t *shingles;
	size_t shingles_cap;
};

/* ---- parameters ---- */

void dedup_params_default(struct dedup_params *p)
{
	p->ngram = 5;
	p->bands = 14;
	p->rows = 8;
	p->threshold = 0.8;
}

int dedup_params_check(const struct dedup_params *p, struct ling_err *err)
{
	if (p->ngram < 1 || p->ngram > DEDUP_MAX_NGRAM)
		return ling_err_set(err, LING_EUSAGE, "--ngram must be between 1 and %d", DEDUP_MAX_NGRAM);
	if (p->bands < 1 || p->bands > 255)
		return ling_err_set(err, LING_EUSAGE, "--bands must be between 1 and 255");
	if (p->rows < 1 || (long)p->bands * p->rows > DEDUP_MAX_PERMS)
		return ling_err_set(err, LING_EUSAGE, "--bands times --rows must be between 1 and %d",
				    DEDUP_MAX_PERMS);
	if (!(p->threshold >= 0 && p->threshold <= 1))
		return ling_err_set(err, LING_EUSAGE, "--threshold must be between 0 and 1");
	return 0;
}

/* ---- the hasher ---- */

struct dedup_hasher *dedup_hasher_new(const struct dedup_params *p)
{
	struct dedup_hasher *h = xcalloc(1, sizeof(*h));
	uint64_t state = DEDUP_SEED;
	int i;

	h->p = *p;
	ling_unicode_init(&h->uni);
	h->nperm = p->bands * p->rows;
	h->a = xmalloc((size_t)h->nperm * sizeof(uint64_t));
	h->ahi32 = xmalloc((size_t)h->nperm * sizeof(uint32_t));
	h->b = xmalloc((size_t)h->nperm * sizeof(uint64_t));
	for (i = 0; i < h->nperm; i++) {
		h->a[i] = ling_rand_next(&state);
		h->b[i] = ling_rand_next(&state);
	}
	for (i = 0; i < h->nperm; i++) {
		static const int order[8] = { 0, 4, 1, 5, 2, 6, 3, 7 };
		int base = i & ~7;

		h->ahi32[i] = base + 8 <= h->nperm ? (uint32_t)(h->a[base + order[i & 7]] >> 32) : 0;
	}
#ifdef DEDUP_HAVE_AVX2
	h->use_avx2 = __builtin_cpu_supports("avx2") && !getenv("LING_DEDUP_NO_AVX2");
#endif
	return h;
}

void dedup_hasher_free(struct dedup_hasher *h)
{
	if (!h)
		return;
	free(h->a);
	free(h->ahi32);
	free(h->b);
	ling_unicode_release(&h->uni);
	ling_buf_release(&h->norm);
	free(h->words);
	free(h->shingles);
	free(h);
}

void dedup_hasher_set_avx2(struct dedup_hasher *h, int on)
{
#ifdef DEDUP_HAVE_AVX2
	h->use_avx2 = on && __builtin_cpu_supports("avx2");
#else
	(void)on;
	h->use_avx2 = 0;
#endif
}

int dedup_hasher_avx2(const struct dedup_hasher *h)
{
	return h->use_avx2;
}

/* ---- the exact normal form: NFKC_Casefold, white space collapsed ---- */

int dedup_normalize_exact(struct dedup_hasher *h, const char *s, size_t n, struct ling_buf *out,
			  struct ling_err *err)
{
	return ling_unicode_normalize(&h->uni, LING_UNICODE_NFKC_CASEFOLD, LING_UNICODE_COLLAPSE_SPACE, s, n, out,
				      NULL, err);
}

int dedup_exact_hash(struct dedup_hasher *h, const char *s, size_t n, struct dedup_hash128 *out,
		     struct ling_err *err)
{
	XXH128_hash_t x;
	int rc;

	ling_buf_reset(&h->norm);
	if ((rc = dedup_normalize_exact(h, s, n, &h->norm, err)))
		return rc;
	x = XXH3_128bits(h->norm.data ? h->norm.data : "", h->norm.len);
	out->lo = x.low64;
	out->hi = x.high64;
	return 0;
}

/* ---- the near normal form (datatrove's simplify_text) ---- */

enum near_class { NEAR_SEP, NEAR_WORD, NEAR_DIGIT };

/* ASCII classes: letters and digits; everything else (punctuation, symbols, controls, white space) separates. */
static const unsigned char ascii_class_tab[128] = {
	['0'] = NEAR_DIGIT, ['1'] = NEAR_DIGIT, ['2'] = NEAR_DIGIT, ['3'] = NEAR_DIGIT, ['4'] = NEAR_DIGIT,
	['5'] = NEAR_DIGIT, ['6'] = NEAR_DIGIT, ['7'] = NEAR_DIGIT, ['8'] = NEAR_DIGIT, ['9'] = NEAR_DIGIT,
	['a'] = NEAR_WORD, ['b'] = NEAR_WORD, ['c'] = NEAR_WORD, ['d'] = NEAR_WORD, ['e'] = NEAR_WORD,
	['f'] = NEAR_WORD, ['g'] = NEAR_WORD, ['h'] = NEAR_WORD, ['i'] = NEAR_WORD, ['j'] = NEAR_WORD,
	['k'] = NEAR_WORD, ['l'] = NEAR_WORD, ['m'] = NEAR_WORD, ['n'] = NEAR_WORD, ['o'] = NEAR_WORD,
	['p'] = NEAR_WORD, ['q'] = NEAR_WORD, ['r'] = NEAR_WORD, ['s'] = NEAR_WORD, ['t'] = NEAR_WORD,
	['u'] = NEAR_WORD, ['v'] = NEAR_WORD, ['w'] = NEAR_WORD, ['x'] = NEAR_WORD, ['y'] = NEAR_WORD,
	['z'] = NEAR_WORD, ['A'] = NEAR_WORD, ['B'] = NEAR_WORD, ['C'] = NEAR_WORD, ['D'] = NEAR_WORD,
	['E'] = NEAR_WORD, ['F'] = NEAR_WORD, ['G'] = NEAR_WORD, ['H'] = NEAR_WORD, ['I'] = NEAR_WORD,
	['J'] = NEAR_WORD, ['K'] = NEAR_WORD, ['L'] = NEAR_WORD, ['M'] = NEAR_WORD, ['N'] = NEAR_WORD,
	['O'] = NEAR_WORD, ['P'] = NEAR_WORD, ['Q'] = NEAR_WORD, ['R'] = NEAR_WORD, ['S'] = NEAR_WORD,
	['T'] = NEAR_WORD, ['U'] = NEAR_WORD, ['V'] = NEAR_WORD, ['W'] = NEAR_WORD, ['X'] = NEAR_WORD,
	['Y'] = NEAR_WORD, ['Z'] = NEAR_WORD,
};

/*
 * Writes normalised characters: words separated by one space, and each
 * number \d+(\.\d+)? as one "0". A '.' after the digits of a number is held
 * back until the next character says whether it starts a fraction. The
 * caller reserves room: at most 3 bytes per input UTF-16 unit, or 1 per
 * ASCII byte.
 */
struct near_writer {
	char *o;           /* the next byte to write */
	char *start;       /* where the normal form began */
	int space;         /* a separator is pending */
	int in_number;     /* the last character was a digit of a number */
	int frac_allowed;  /* that number has no fraction yet */
	int dot;           /* a '.' right after the number is pending */
};

static inline void near_put_sep(struct near_writer *w)
{
	w->space = 1;
	w->in_number = w->dot = 0;
}

static inline void near_put(struct near_writer *w, enum near_class cls, UChar32 cp)
{
	if (w->dot) {
		w->dot = 0;
		if (cls == NEAR_DIGIT) {
			w->frac_allowed = 0; /* "1.5": the fraction belongs to the "0" already written */
			return;
		}
		near_put_sep(w); /* the '.' was punctuation */
	}
	if (cls == NEAR_SEP) {
		if (cp == '.' && w->in_number && w->frac_allowed) {
			w->dot = 1;
			return;
		}
		near_put_sep(w);
		return;
	}
	if (cls == NEAR_DIGIT && w->in_number)
		return;
	if (w->space && w->o > w->start)
		*w->o++ = ' ';
	w->space = 0;
	if (cls == NEAR_DIGIT) {
		*w->o++ = '0';
		w->in_number = 1;
		w->frac_allowed = 1;
		return;
	}
	w->in_number = 0;
	if (cp < 0x80) {
		*w->o++ = (char)cp;
	} else if (cp < 0x800) {
		*w->o++ = (char)(0xC0 | (cp >> 6));
		*w->o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*w->o++ = (char)(0xE0 | (cp >> 12));
		*w->o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*w->o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*w->o++ = (char)(0xF0 | (cp >> 18));
		*w->o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*w->o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*w->o++ = (char)(0x80 | (cp & 0x3F));
	}
}

static enum near_class unicode_class(UChar32 cp)
{
	if (cp < 0x80)
		return (enum near_class)ascii_class_tab[cp];
	if (u_isdigit(cp))
		return NEAR_DIGIT;
	if (u_isUWhiteSpace(cp) || (U_GET_GC_MASK(cp) & (U_GC_P_MASK | U_GC_S_MASK | U_GC_CC_MASK)))
		return NEAR_SEP;
	return NEAR_WORD;
}

static void near_writer_init(struct near_writer *w, struct ling_buf *out, size_t room)
{
	ling_buf_reserve(out, room);
	memset(w, 0, sizeof(*w));
	w->o = w->start = out->data + out->len;
}

static void near_writer_done(struct near_writer *w, struct ling_buf *out)
{
	out->len = (size_t)(w->o - out->data);
	out->data[out->len] = '\0';
}

int dedup_normalize_near(struct dedup_hasher *h, const char *s, size_t n, struct ling_buf *out,
			 struct ling_err *err)
{
	struct near_writer w;
	const uint16_t *nf;
	size_t i, len;
	int rc;

	if (ling_unicode_is_ascii(s, n)) {
		const unsigned char *p = (const unsigned char *)s, *end = p + n;

		near_writer_init(&w, out, n);
		while (p < end) {
			/* The common case, a run of letters inside a word, goes straight out. */
			if (!w.space && !w.dot && ascii_class_tab[*p] == NEAR_WORD) {
				char *o = w.o;

				do
					*o++ = (char)(*p | (*p <= 'Z' ? 0x20 : 0));
				while (++p < end && ascii_class_tab[*p] == NEAR_WORD);
				w.o = o;
				w.in_number = 0;
				continue;
			}
			near_put(&w, (enum near_class)ascii_class_tab[*p], *p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
			p++;
		}
		near_writer_done(&w, out);
		return 0;
	}
	if ((rc = ling_unicode_normalize16(&h->uni, LING_UNICODE_NFD, s, n, &nf, &len, NULL, err)))
		return rc;
	near_writer_init(&w, out, len * 3 + 2);
	for (i = 0; i < len;) {
		UChar32 cp;

		U16_NEXT(nf, i, len, cp);
		if (u_charType(cp) == U_NON_SPACING_MARK)
			continue;
		cp = u_tolower(cp);
		near_put(&w, unicode_class(cp), cp);
	}
	near_writer_done(&w, out);
	return 0;
}

/* ---- shingles, signatures, bands ---- */

long dedup_shingles(struct dedup_hasher *h, const char *s, size_t n, uint32_t **out, size_t *cap,
		    struct ling_err *err)
{
	size_t nwords = 0, nsh, i, k = (size_t)h->p.ngram;
	const char *p, *end;
	int rc;

	ling_buf_reset(&h->norm);
	if ((rc = dedup_normalize_near(h, s, n, &h->norm, err)))
		return rc;
	p = h->norm.data;
	end = p + h->norm.len;
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *we = sp ? sp : end;

		h->words = xgrow(h->words, &h->words_cap, nwords + 1, sizeof(uint64_t));
		h->words[nwords++] = XXH3_64bits(p, (size_t)(we - p));
		p = we + 1;
	}
	if (nwords == 0)
		return 0;
	if (nwords < k)
		k = nwords;
	nsh = nwords - k + 1;
	*out = xgrow(*out, cap, nsh, sizeof(uint32_t));
	for (i = 0; i < nsh; i++)
		(*out)[i] = (uint32_t)XXH3_64bits(h->words + i, k * sizeof(uint64_t));
	return (long)nsh;
}

static void minhash_scalar(const struct dedup_hasher *h, const uint32_t *x, size_t n, uint32_t *sig)
{
	int i;
	size_t j;

	for (i = 0; i < h->nperm; i++) {
		const uint64_t a = h->a[i], b = h->b[i];
		uint32_t m = UINT32_MAX;

		for (j = 0; j < n; j++) {
			uint32_t v = (uint32_t)((a * x[j] + b) >> 32);

			m = v < m ? v : m;
		}
		sig[i] = m;
	}
}

#ifdef DEDUP_HAVE_AVX2
/*
 * Eight permutations at a time. With a = ah 2^32 + al and x < 2^32,
 * ((a x + b) mod 2^64) >> 32 = (hi32(al x + b) + lo32(ah x)) mod 2^32 (the
 * carry out of bit 64 is what mod 2^64 drops anyway): two 32x32->64
 * multiplies of four lanes for al x, and one 32-bit multiply of eight lanes
 * for ah x. The high halves of the two 64-bit vectors are blended into one
 * vector of eight 32-bit lanes in the order 0 4 1 5 2 6 3 7, the order in
 * which h->ahi32 holds ah.
 */
__attribute__((target("avx2"))) static void minhash_avx2(const struct dedup_hasher *h, const uint32_t *x,
							 size_t n, uint32_t *sig)
{
	static const int order[8] = { 0, 4, 1, 5, 2, 6, 3, 7 };
	int i, k;
	size_t j;

	for (i = 0; i + 8 <= h->nperm; i += 8) {
		const __m256i a0 = _mm256_loadu_si256((const __m256i *)(h->a + i));
		const __m256i a1 = _mm256_loadu_si256((const __m256i *)(h->a + i + 4));
		const __m256i b0 = _mm256_loadu_si256((const __m256i *)(h->b + i));
		const __m256i b1 = _mm256_loadu_si256((const __m256i *)(h->b + i + 4));
		const __m256i ah = _mm256_loadu_si256((const __m256i *)(h->ahi32 + i));
		__m256i m = _mm256_set1_epi32(-1);
		uint32_t lanes[8];

		for (j = 0; j < n; j++) {
			const __m256i xv = _mm256_set1_epi32((int)x[j]);
			__m256i v0 = _mm256_add_epi64(_mm256_mul_epu32(a0, xv), b0);
			__m256i v1 = _mm256_add_epi64(_mm256_mul_epu32(a1, xv), b1);
			__m256i hi = _mm256_blend_epi32(_mm256_srli_epi64(v0, 32), v1, 0xAA);

			m = _mm256_min_epu32(m, _mm256_add_epi32(hi, _mm256_mullo_epi32(ah, xv)));
		}
		_mm256_storeu_si256((__m256i *)lanes, m);
		for (k = 0; k < 8; k++)
			sig[i + order[k]] = lanes[k];
	}
	for (; i < h->nperm; i++) {
		uint32_t m = UINT32_MAX;

		for (j = 0; j < n; j++) {
			uint32_t v = (uint32_t)((h->a[i] * x[j] + h->b[i]) >> 32);

			m = v < m ? v : m;
		}
		sig[i] = m;
	}
}
#endif

void dedup_minhash(const struct dedup_hasher *h, const uint32_t *x, size_t n, uint32_t *sig)
{
#ifdef DEDUP_HAVE_AVX2
	if (h->use_avx2) {
		minhash_avx2(h, x, n, sig);
		return;
	}
#endif
	minhash_scalar(h, x, n, sig);
}

void dedup_band_keys(const struct dedup_params *p, const uint32_t *sig, uint64_t *keys)
{
	int b;

	for (b = 0; b < p->bands; b++) {
		uint64_t k = XXH3_64bits_withSeed(sig + (size_t)b * (size_t)p->rows, (size_t)p->rows * sizeof(uint32_t),
						  (uint64_t)b);

		keys[b] = ((uint64_t)b << 56) | (k & DEDUP_KEY_HASH_MASK);
	}
}

long dedup_signature(struct dedup_hasher *h, const char *s, size_t n, uint32_t *sig, uint64_t *keys,
		     struct ling_err *err)
{
	long nsh = dedup_shingles(h, s, n, &h->shingles, &h->shingles_cap, err);

	if (nsh <= 0)
		return nsh;
	dedup_minhash(h, h->shingles, (size_t)nsh, sig);
	dedup_band_keys(&h->p, sig, keys);
	return nsh;
}

double dedup_similarity(const uint32_t *a, const uint32_t *b, int n)
{
	int i, same = 0;

	for (i = 0; i < n; i++)
		same += a[i] == b[i];
	return n > 0 ? (double)same / n : 0;
}
