#include "kg.h"

#include "kg_term_canon_internal.h"
#include "../common/ling_idmap.h"
#include "../common/ling_json.h"
#include "../common/ling_mem.h"
#include "../common/ling_utf8.h"


#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_VARS 32
#define MAX_PATTERNS 16

static const struct {
	const char *name, *iri;
} known_prefixes[] = {
	{ "rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#" },
	{ "rdfs", "http://www.w3.org/2000/01/rdf-schema#" },
	{ "owl", "http://www.w3.org/2002/07/owl#" },
	{ "xsd", "http://www.w3.org/2001/XMLSchema#" },
	{ "skos", "http://www.w3.org/2004/02/skos/core#" },
	{ "schema", "http://schema.org/" },
	{ "foaf", "http://xmlns.com/foaf/0.1/" },
	{ "dbo", "http://dbpedia.org/ontology/" },
	{ "fb", "http://rdf.freebase.com/ns/" },
	{ "wd", "http://www.wikidata.org/entity/" },
	{ "kg", "urn:kg:" },
};

/* Writes one result line. @return 0, LING_EPIPE when the reader went away, or LING_EIO. */
static int put_line(FILE *out, const char *line, size_t len, struct ling_err *err)
{
	errno = 0;
	if (fwrite(line, 1, len, out) == len && putc('\n', out) != EOF)
		return 0;
	if (errno == EPIPE)
		return ling_err_set(err, LING_EPIPE, "the reader of the results went away");
	return ling_err_set(err, LING_EIO, "cannot write the results: %s", errno ? strerror(errno) : "write error");
}

/* ---- terms: a small cache in front of the dictionary ---- */

#define CACHE_SLOTS 4096

struct term_cache {
	kg_id ids[CACHE_SLOTS];
	char *nt[CACHE_SLOTS];
};

static const char *term_of(struct kg_store *st, struct term_cache *c, kg_id id, struct ling_err *err)
{
	size_t slot = (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 52);
	struct ling_buf b = LING_BUF_INIT;

	if (c->ids[slot] == id && c->nt[slot])
		return c->nt[slot];
	if (kg_store_term_nt(st, id, &b, err)) {
		ling_buf_release(&b);
		return NULL;
	}
	free(c->nt[slot]);
	c->ids[slot] = id;
	c->nt[slot] = b.data ? b.data : xstrdup("");
	return c->nt[slot];
}

static void cache_release(struct term_cache *c)
{
	size_t i;

	for (i = 0; i < CACHE_SLOTS; i++)
		free(c->nt[i]);
}

/* ---- pattern parsing ---- */

struct slot {
	int var;      /* index into vars, or -1 for a constant */
	kg_id id;
	int missing;  /* a constant the store does not have: nothing can match */
};

struct query {
	struct kg_store *st;
	const struct kg_query_opts *opts;
	char *vars[MAX_VARS];
	int nvars;
	struct slot pats[MAX_PATTERNS][4];
	int npats;
	kg_id binding[MAX_VARS];
	int bound[MAX_VARS];
	kg_id matched[MAX_PATTERNS][4]; /* the quad each pattern matched, for --output nt */
	unsigned long long solutions;
	int done; /* --limit reached: every level of the join stops */
	FILE *out;
	struct term_cache cache;
	struct ling_buf line; /* the JSON row being written */
	struct ling_err *err;
};

static int var_index(struct query *q, const char *name, size_t n)
{
	int i;

	for (i = 0; i < q->nvars; i++)
		if (strlen(q->vars[i]) == n && !memcmp(q->vars[i], name, n))
			return i;
	if (q->nvars == MAX_VARS)
		return -1;
	q->vars[q->nvars] = xstrndup(name, n);
	return q->nvars++;
}

/* Turns one token into N-Triples form in out. @return 0, or -1 when it is not a term. */
static int token_to_nt(const char *tok, size_t n, const char *iri_prefix, struct ling_buf *out)
{
	size_t i;

	if (n == 1 && tok[0] == 'a') {
		ling_buf_adds(out, "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>");
		return 0;
	}
	if (tok[0] == '<' && tok[n - 1] == '>' && n >= 2) {
		const char *colon = memchr(tok, ':', n);

		ling_buf_addc(out, '<');
		if (!colon)
			ling_buf_adds(out, iri_prefix);
		ling_buf_add(out, tok + 1, n - 1);
		return 0;
	}
	if (tok[0] == '"') {
		const char *dt = n > 3 ? strstr(tok, "\"^^") : NULL;

		/* "1979"^^xsd:gYear: expand the datatype's prefix. */
		if (dt && (size_t)(dt - tok) + 3 < n && dt[3] != '<') {
			size_t head = (size_t)(dt - tok) + 3;

			ling_buf_add(out, tok, head);
			return token_to_nt(tok + head, n - head, iri_prefix, out);
		}
		ling_buf_add(out, tok, n);
		return 0;
	}
	if (n > 2 && tok[0] == '_' && tok[1] == ':') {
		ling_buf_add(out, tok, n);
		return 0;
	}
	for (i = 0; i < sizeof(known_prefixes) / sizeof(known_prefixes[0]); i++) {
		size_t pl = strlen(known_prefixes[i].name);

		if (n > pl && tok[pl] == ':' && !memcmp(tok, known_prefixes[i].name, pl)) {
			ling_buf_addc(out, '<');
			ling_buf_adds(out, known_prefixes[i].iri);
			ling_buf_add(out, tok + pl + 1, n - pl - 1);
			ling_buf_addc(out, '>');
			return 0;
		}
	}
	return -1;
}

/* Splits a pattern into tokens; a quoted literal may contain spaces. */
static int next_token(const char **p, const char **tok, size_t *n)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	*tok = s;
	if (*s == '"') {
		for (s++; *s && *s != '"'; s++)
			if (*s == '\\' && s[1])
				s++;
		if (*s)
			s++;
	} else if (*s == '<') {
		while (*s && *s != '>')
			s++;
		if (*s)
			s++;
	}
	while (*s && *s != ' ' && *s != '\t')
		s++;
	*n = (size_t)(s - *tok);
	*p = s;
	return 1;
}

static int parse_pattern(struct query *q, const char *text, struct ling_err *err)
{
	struct ling_buf nt = LING_BUF_INIT;
	struct slot *slots = q->pats[q->npats];
	const char *p = text, *tok;
	size_t n;
	int k = 0, rc = 0;

	while (next_token(&p, &tok, &n)) {
		if (k == 4 || (n == 1 && tok[0] == '.' && !*p))
			break;
		slots[k].var = -1;
		slots[k].missing = 0;
		if (tok[0] == '?' && n > 1) {
			/* The name becomes a JSON key of every row. */
			if (ling_utf8_valid_prefix(tok + 1, n - 1) != n - 1) {
				rc = ling_err_set(err, LING_EUSAGE, "pattern '%s': a variable name is not valid UTF-8", text);
				goto out;
			}
			if ((slots[k].var = var_index(q, tok + 1, n - 1)) < 0) {
				rc = ling_err_set(err, LING_EUSAGE, "too many variables (at most %d)", MAX_VARS);
				goto out;
			}
		} else {
			int found;

			ling_buf_reset(&nt);
			if (token_to_nt(tok, n, q->opts->iri_prefix ? q->opts->iri_prefix : "urn:kg:", &nt)) {
				rc = ling_err_set(err, LING_EUSAGE, "pattern '%s': cannot read '%.*s' as a term "
						  "(hint: <iri>, prefix:name, \"literal\" or ?var)", text, (int)n, tok);
				goto out;
			}
			if ((rc = kg_store_nt_id(q->st, nt.data, &slots[k].id, &found, err)))
				goto out;
			slots[k].missing = !found;
		}
		k++;
	}
	if (k < 3) {
		rc = ling_err_set(err, LING_EUSAGE, "pattern '%s' needs subject, predicate and object", text);
		goto out;
	}
	if (k == 3) {
		/* Three terms match in any graph. */
		slots[3].var = -2;
		slots[3].id = 0;
		slots[3].missing = 0;
	}
	q->npats++;
out:
	ling_buf_release(&nt);
	return rc;
}

/* ---- solutions ---- */

/* The store holds terms as valid UTF-8 (kg_canon_term) and variable names are checked, so rows need no check. */
static int write_solution(struct query *q)
{
	struct ling_json w;
	int i, rc = -1;

	ling_buf_reset(&q->line);
	ling_json_init(&w, &q->line, 0);
	ling_json_object_begin(&w);
	for (i = 0; i < q->nvars; i++) {
		const char *nt;

		ling_json_keyz(&w, q->vars[i]);
		if (q->binding[i] == KG_ID_DEFAULT_GRAPH) {
			/* A graph variable that matched the default graph. */
			ling_json_null(&w);
			continue;
		}
		if (!(nt = term_of(q->st, &q->cache, q->binding[i], q->err)))
			goto out;
		ling_json_strz(&w, nt);
	}
	ling_json_object_end(&w);
	rc = put_line(q->out, q->line.data, q->line.len, q->err);
out:
	ling_json_release(&w);
	return rc;
}

static int write_quad_nt(struct kg_store *st, struct term_cache *c, const kg_id quad[4], FILE *out,
			 struct ling_err *err)
{
	struct ling_buf line = LING_BUF_INIT;
	int i, rc = -1;

	for (i = 0; i < 4; i++) {
		const char *nt;

		if (i == 3 && quad[3] == KG_ID_DEFAULT_GRAPH)
			break;
		if (!(nt = term_of(st, c, quad[i], err)))
			goto out;
		ling_buf_adds(&line, nt);
		ling_buf_addc(&line, ' ');
	}
	ling_buf_addc(&line, '.');
	rc = put_line(out, line.data, line.len, err);
out:
	ling_buf_release(&line);
	return rc;
}

static int solve(struct query *q, int k);

struct step_ctx {
	struct query *q;
	int k;
};

static int on_match(void *ctx, const kg_id quad[4])
{
	struct step_ctx *s = ctx;
	struct query *q = s->q;
	const struct slot *slots = q->pats[s->k];
	int newly[4] = { 0, 0, 0, 0 }, i, rc;

	for (i = 0; i < 4; i++) {
		int v = slots[i].var;

		if (v < 0)
			continue;
		if (q->bound[v] && q->binding[v] != quad[i])
			goto undo; /* the same variable twice in one pattern */
		if (!q->bound[v]) {
			q->bound[v] = 1;
			q->binding[v] = quad[i];
			newly[i] = 1;
		}
	}
	memcpy(q->matched[s->k], quad, sizeof(q->matched[0]));
	rc = solve(q, s->k + 1);
	/* kg_store_match() ends a scan on 1 but returns 0: the outer scans learn of the limit here. */
	if (q->done && rc == 0)
		rc = 1;
	for (i = 0; i < 4; i++)
		if (newly[i])
			q->bound[slots[i].var] = 0;
	return rc;
undo:
	for (i = 0; i < 4; i++)
		if (newly[i])
			q->bound[slots[i].var] = 0;
	return 0;
}

/* Nested-loop join: pattern k with the variables bound so far substituted. */
static int solve(struct query *q, int k)
{
	struct kg_pattern pat;
	struct step_ctx s = { q, k };
	kg_id *fields[4] = { &pat.s, &pat.p, &pat.o, &pat.g };
	int i;

	if (k == q->npats) {
		q->solutions++;
		if (q->opts->output == KG_OUTPUT_JSONL && write_solution(q))
			return -1;
		for (i = 0; q->opts->output == KG_OUTPUT_NTRIPLES && i < q->npats; i++)
			if (write_quad_nt(q->st, &q->cache, q->matched[i], q->out, q->err))
				return -1;
		q->done = q->opts->limit && q->solutions >= q->opts->limit;
		return q->done;
	}
	memset(&pat, 0, sizeof(pat));
	for (i = 0; i < 4; i++) {
		const struct slot *sl = &q->pats[k][i];

		if (sl->missing)
			return 0;
		if (sl->var == -1 || (sl->var >= 0 && q->bound[sl->var])) {
			*fields[i] = sl->var == -1 ? sl->id : q->binding[sl->var];
			pat.bound |= 1u << i;
		}
	}
	return kg_store_match(q->st, &pat, on_match, &s, q->err);
}

int kg_query_patterns(struct kg_store *st, const char *const *patterns, int n, const struct kg_query_opts *opts,
		      FILE *out, struct ling_err *err)
{
	struct query *q = xcalloc(1, sizeof(*q));
	int i, rc = 0;

	q->st = st;
	q->opts = opts;
	q->out = out;
	q->err = err;
	if (n > MAX_PATTERNS) {
		rc = ling_err_set(err, LING_EUSAGE, "too many patterns (at most %d)", MAX_PATTERNS);
		goto out;
	}
	for (i = 0; i < n && !rc; i++)
		rc = parse_pattern(q, patterns[i], err);
	if (!rc && !(opts->limit && q->solutions >= opts->limit))
		rc = solve(q, 0);
	if (rc > 0)
		rc = 0;
	if (rc < 0 && !err->code)
		rc = ling_err_set(err, LING_EIO, "cannot write the results");
out:
	for (i = 0; i < q->nvars; i++)
		free(q->vars[i]);
	cache_release(&q->cache);
	ling_buf_release(&q->line);
	free(q);
	return rc;
}

/* ---- labels ---- */

struct label_out {
	struct kg_store *st;
	FILE *out;
	const char *lang;
	struct ling_buf folded_query;
	struct kg_canon canon;
	unsigned long long n, limit;
	struct ling_err *err;
};

static const char *const label_predicates[] = {
	"<http://www.w3.org/2000/01/rdf-schema#label>",
	"<http://www.w3.org/2004/02/skos/core#prefLabel>",
	"<http://schema.org/name>",
};

struct label_pick {
	struct label_out *l;
	struct ling_buf storage, folded, nt;
	struct kg_term term;
	int found;
};

/* Takes the first label literal of the entity that folds to the query (in the asked language). */
static int pick_label(void *ctx, const kg_id quad[4])
{
	struct label_pick *p = ctx;
	struct label_out *l = p->l;
	struct kg_term t;

	ling_buf_reset(&p->nt);
	if (kg_store_term_nt(l->st, quad[2], &p->nt, l->err))
		return -1;
	if (p->nt.data[0] != '"' || kg_nt_term_parse(p->nt.data, p->nt.len, &t, &p->storage, l->err)) {
		ling_err_clear(l->err);
		return 0;
	}
	if (l->lang && (!t.lang || strcasecmp(t.lang, l->lang)))
		return 0;
	ling_buf_reset(&p->folded);
	if (kg_canon_fold(&l->canon, t.value, t.len, &p->folded, l->err)) {
		ling_err_clear(l->err);
		return 0;
	}
	if (p->folded.len != l->folded_query.len || memcmp(p->folded.data, l->folded_query.data, p->folded.len))
		return 0;
	p->term = t;
	p->found = 1;
	return 1;
}

static int write_label_hit(void *ctx, kg_id id)
{
	struct label_out *l = ctx;
	struct label_pick p;
	struct ling_buf entity = LING_BUF_INIT, line = LING_BUF_INIT;
	struct ling_json w;
	int64_t dout, din;
	size_t i;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.l = l;
	if (kg_store_term_nt(l->st, id, &entity, l->err) || kg_store_degree(l->st, id, &dout, &din, l->err))
		goto out;
	for (i = 0; i < sizeof(label_predicates) / sizeof(label_predicates[0]) && !p.found; i++) {
		struct kg_pattern pat;
		int found;

		memset(&pat, 0, sizeof(pat));
		pat.s = id;
		pat.bound = KG_BOUND_S | KG_BOUND_P;
		if (kg_store_nt_id(l->st, label_predicates[i], &pat.p, &found, l->err))
			goto out;
		if (found && kg_store_match(l->st, &pat, pick_label, &p, l->err) < 0)
			goto out;
	}
	/* The label folded (pick_label), so it is valid UTF-8; it may hold NUL (written \u0000). */
	ling_json_init(&w, &line, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "entity");
	ling_json_str(&w, entity.data, entity.len);
	ling_json_keyz(&w, "label");
	ling_json_str(&w, p.found ? p.term.value : "", p.found ? p.term.len : 0);
	ling_json_keyz(&w, "lang");
	ling_json_strz(&w, p.found ? p.term.lang : NULL);
	ling_json_keyz(&w, "degree");
	ling_json_int(&w, dout + din);
	ling_json_object_end(&w);
	ling_json_release(&w);
	if ((rc = put_line(l->out, line.data, line.len, l->err)))
		goto out;
	rc = ++l->n == l->limit;
out:
	ling_buf_release(&entity);
	ling_buf_release(&line);
	ling_buf_release(&p.storage);
	ling_buf_release(&p.folded);
	ling_buf_release(&p.nt);
	return rc;
}

int kg_query_label(struct kg_store *st, const char *label, const char *lang, const struct kg_query_opts *opts,
		   FILE *out, struct ling_err *err)
{
	struct label_out l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.st = st;
	l.out = out;
	l.lang = lang;
	l.limit = opts->limit;
	l.err = err;
	kg_canon_init(&l.canon);
	rc = kg_canon_fold(&l.canon, label, strlen(label), &l.folded_query, err);
	if (!rc)
		rc = kg_store_find_label(st, label, lang, write_label_hit, &l, err);
	kg_canon_release(&l.canon);
	ling_buf_release(&l.folded_query);
	return rc > 0 ? 0 : rc;
}

/* ---- neighbourhoods ---- */

/* Seen nodes and triples: sets of ids (a key is never 0). */
static const struct ling_idmap_opts id_set_opts = { LING_IDMAP_HASH_LOW, 0, 256, 1, 2 };

/* @return 1 when id was not in s yet. */
static int set_add(struct ling_idmap *s, kg_id id)
{
	int added;

	ling_idmap_insert(s, id, 1, &added);
	return added;
}

struct hood {
	struct query *q;
	struct ling_idmap seen_nodes, seen_triples;
	kg_id *next;
	size_t nnext, next_cap;
	unsigned long long fanout, taken, written;
	int hop;
	int done; /* --limit reached */
};

/* One triple of a neighbourhood as a JSON row: {"s":..,"p":..,"o":..,"hop":n}. */
static int write_hood_row(struct query *q, const kg_id quad[4], int hop)
{
	static const char *const names[3] = { "s", "p", "o" };
	struct ling_json w;
	const char *nt;
	int i, rc = -1;

	ling_buf_reset(&q->line);
	ling_json_init(&w, &q->line, 0);
	ling_json_object_begin(&w);
	for (i = 0; i < 3; i++) {
		if (!(nt = term_of(q->st, &q->cache, quad[i], q->err)))
			goto out;
		ling_json_keyz(&w, names[i]);
		ling_json_strz(&w, nt);
	}
	ling_json_keyz(&w, "hop");
	ling_json_int(&w, hop);
	ling_json_object_end(&w);
	rc = put_line(q->out, q->line.data, q->line.len, q->err);
out:
	ling_json_release(&w);
	return rc;
}

static int on_hood_triple(void *ctx, const kg_id quad[4])
{
	struct hood *h = ctx;
	struct query *q = h->q;
	kg_id tkey = quad[0] * 0x9E3779B97F4A7C15ULL ^ quad[1] * 0xC2B2AE3D27D4EB4FULL ^ quad[2] ^ quad[3] * 31;
	const char *onts;
	int i;

	if (h->done)
		return 1;
	if (h->fanout && h->taken++ >= h->fanout)
		return 1;
	if (!set_add(&h->seen_triples, tkey ? tkey : 1))
		return 0;
	for (i = 0; i < 3; i += 2) {
		if (!(onts = term_of(q->st, &q->cache, quad[i], q->err)))
			return -1;
		if (onts[0] != '"' && set_add(&h->seen_nodes, quad[i])) {
			h->next = xgrow(h->next, &h->next_cap, h->nnext + 1, sizeof(kg_id));
			h->next[h->nnext++] = quad[i];
		}
	}
	if (q->opts->output == KG_OUTPUT_NTRIPLES) {
		if (write_quad_nt(q->st, &q->cache, quad, q->out, q->err))
			return -1;
	} else if (write_hood_row(q, quad, h->hop)) {
		return -1;
	}
	h->written++;
	h->done = q->opts->limit && h->written >= q->opts->limit;
	return h->done;
}

static int resolve_entity(struct kg_store *st, const char *entity, const struct kg_query_opts *opts, kg_id *id,
			  struct ling_err *err);

int kg_query_neighbours(struct kg_store *st, const char *entity, int hops, unsigned long long fanout,
			const struct kg_query_opts *opts, FILE *out, struct ling_err *err)
{
	struct query q;
	struct hood h;
	kg_id *frontier = NULL, start;
	size_t nfrontier, i;
	int rc;

	memset(&q, 0, sizeof(q));
	memset(&h, 0, sizeof(h));
	q.st = st;
	q.opts = opts;
	q.out = out;
	q.err = err;
	h.q = &q;
	h.fanout = fanout;
	ling_idmap_init(&h.seen_nodes, &id_set_opts);
	ling_idmap_init(&h.seen_triples, &id_set_opts);
	if ((rc = resolve_entity(st, entity, opts, &start, err)))
		goto out;
	set_add(&h.seen_nodes, start);
	frontier = xmalloc(sizeof(kg_id));
	frontier[0] = start;
	nfrontier = 1;
	for (h.hop = 1; h.hop <= hops && nfrontier && rc == 0 && !h.done; h.hop++) {
		for (i = 0; i < nfrontier && rc == 0 && !h.done; i++) {
			struct kg_pattern pat;

			memset(&pat, 0, sizeof(pat));
			pat.s = frontier[i];
			pat.bound = KG_BOUND_S;
			h.taken = 0;
			rc = kg_store_match(st, &pat, on_hood_triple, &h, err);
			if (rc == 1)
				rc = 0;
			if (rc)
				break;
			memset(&pat, 0, sizeof(pat));
			pat.o = frontier[i];
			pat.bound = KG_BOUND_O;
			h.taken = 0;
			rc = kg_store_match(st, &pat, on_hood_triple, &h, err);
			if (rc == 1)
				rc = 0;
		}
		free(frontier);
		frontier = h.next;
		nfrontier = h.nnext;
		h.next = NULL;
		h.nnext = h.next_cap = 0;
	}
out:
	free(frontier);
	free(h.next);
	ling_idmap_release(&h.seen_nodes);
	ling_idmap_release(&h.seen_triples);
	cache_release(&q.cache);
	ling_buf_release(&q.line);
	return rc;
}

struct first_hit {
	kg_id id;
	int found;
};

static int take_first(void *ctx, kg_id id)
{
	struct first_hit *f = ctx;

	f->id = id;
	f->found = 1;
	return 1;
}

static int resolve_entity(struct kg_store *st, const char *entity, const struct kg_query_opts *opts, kg_id *id,
			  struct ling_err *err)
{
	struct ling_buf nt = LING_BUF_INIT;
	struct first_hit hit = { 0, 0 };
	int found = 0, rc = 0;

	if (!token_to_nt(entity, strlen(entity), opts->iri_prefix ? opts->iri_prefix : "urn:kg:", &nt)) {
		rc = kg_store_nt_id(st, nt.data, id, &found, err);
	} else {
		rc = kg_store_find_label(st, entity, NULL, take_first, &hit, err);
		if (rc > 0)
			rc = 0;
		found = hit.found;
		*id = hit.id;
	}
	if (!rc && !found)
		rc = ling_err_set(err, LING_EDATA, "no entity '%s' in the store (hint: an <iri> or an exact label)", entity);
	ling_buf_release(&nt);
	return rc;
}

/* ---- dump ---- */

struct dump_ctx {
	struct kg_store *st;
	struct term_cache *cache;
	FILE *out;
	struct ling_err *err;
};

static int dump_one(void *ctx, const kg_id quad[4])
{
	struct dump_ctx *d = ctx;

	return write_quad_nt(d->st, d->cache, quad, d->out, d->err);
}

int kg_query_dump(struct kg_store *st, FILE *out, struct ling_err *err)
{
	struct term_cache *cache = xcalloc(1, sizeof(*cache));
	struct dump_ctx d = { st, cache, out, err };
	struct kg_pattern all;
	int rc;

	memset(&all, 0, sizeof(all));
	rc = kg_store_match(st, &all, dump_one, &d, err);
	cache_release(cache);
	free(cache);
	return rc;
}
