/*
 * RDF/XML (W3C RDF 1.1 XML Syntax, 2014) on libxml2's SAX2 push parser.
 *
 * No tree is built. Each element is matched against the grammar of section 7.2
 * when it starts, a triple goes to the sink as soon as its three terms are
 * known, and only the open elements are kept, one frame each. The one thing
 * that waits for an end tag is a property element that may turn out to hold
 * text, which is why its character data is buffered.
 *
 * parseType="Literal" content is serialised from the SAX events as Exclusive
 * XML Canonicalization with comments and an empty InclusiveNamespaces
 * PrefixList (section 7.2.17, XML-EXC-C14N).
 *
 * libxml2 is told to replace entities (internal ones only: an external entity
 * is an error), never to touch the network and never to load a DTD, and its
 * errors go to a structured handler, so nothing is printed.
 */
#include "kg_rdf_internal.h"


#include "../common/ling_mem.h"
#include "../common/ling_utf8.h"

#include <libxml/SAX2.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/banned.h"

#define RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define XML_NS "http://www.w3.org/XML/1998/namespace"
#define CHUNK_SIZE (64 * 1024)

#if LIBXML_VERSION >= 21200
typedef const xmlError rx_xml_error;
#else
typedef xmlError rx_xml_error;
#endif

/* Names in the rdf: namespace that the grammar treats specially (section 7.2.2 to 7.2.7). */
enum rdf_name {
	RDF_NOT = 0,  /* not in the rdf: namespace */
	RDF_OTHER,    /* rdf:type, rdf:_1, rdf:Seq, ...: an ordinary name */
	RDF_RDF,      /* coreSyntaxTerms from here... */
	RDF_ID,
	RDF_ABOUT,
	RDF_PARSE_TYPE,
	RDF_RESOURCE,
	RDF_NODE_ID,
	RDF_DATATYPE, /* ...to here */
	RDF_DESCRIPTION,
	RDF_LI,
	RDF_ABOUT_EACH, /* oldTerms */
	RDF_ABOUT_EACH_PREFIX,
	RDF_BAG_ID,
};

static const char *const rdf_names[] = {
	[RDF_RDF] = "RDF",
	[RDF_ID] = "ID",
	[RDF_ABOUT] = "about",
	[RDF_PARSE_TYPE] = "parseType",
	[RDF_RESOURCE] = "resource",
	[RDF_NODE_ID] = "nodeID",
	[RDF_DATATYPE] = "datatype",
	[RDF_DESCRIPTION] = "Description",
	[RDF_LI] = "li",
	[RDF_ABOUT_EACH] = "aboutEach",
	[RDF_ABOUT_EACH_PREFIX] = "aboutEachPrefix",
	[RDF_BAG_ID] = "bagID",
};

enum frame_kind {
	FRAME_RDF,        /* rdf:RDF: node elements inside */
	FRAME_NODE,       /* a node element or a parseType="Resource" property: property elements inside */
	FRAME_PROP,       /* a property element still open to text or one node element */
	FRAME_EMPTY,      /* a property element that must be empty (rdf:resource, rdf:nodeID, property attributes) */
	FRAME_COLLECTION, /* parseType="Collection": node elements inside */
	FRAME_LITERAL,    /* parseType="Literal": XML inside */
};

/*
 * One open element outside XML literals. Frames are reused as the stack goes
 * up and down, so their buffers keep their memory.
 */
struct frame {
	enum frame_kind kind;
	int base_from;          /* index of the frame whose base applies, -1 for the document base */
	int lang_from;          /* index of the frame whose xml:lang applies, -1 for none */
	struct ling_buf base;   /* this element's xml:base, resolved */
	struct ling_buf lang;   /* this element's xml:lang */
	/* FRAME_NODE: the subject; FRAME_EMPTY: the object */
	enum kg_term_type node_type;
	struct ling_buf node;
	unsigned long li;       /* last n handed out for rdf:li as rdf:_n */
	/* property frames */
	struct ling_buf pred;
	struct ling_buf reif;   /* the property's rdf:ID, resolved, when has_reif */
	int has_reif;
	struct ling_buf datatype;
	int has_datatype;
	int has_object;         /* FRAME_PROP: got its node element; FRAME_COLLECTION: got a list node */
	struct ling_buf last;   /* FRAME_COLLECTION: the last list node */
};

/* A namespace declaration already written in the XML literal (exc-c14n section 3). */
struct lit_ns {
	char *prefix;   /* "" for the default namespace */
	char *uri;      /* "" for no namespace */
	unsigned depth; /* literal depth of the element that wrote it */
};

struct lit_attr {
	const char *local, *prefix, *uri;
	const char *value;
	size_t len;
};

struct str {
	const char *s; /* NULL when absent */
	size_t n;
};

struct prop_attr {
	size_t name_off, name_len; /* in rx->names */
	struct str value;
	int is_type;               /* rdf:type: the value is an IRI */
};

/* The attributes of one element, sorted out by role (section 6.1.4). */
struct elem_attrs {
	struct str id, about, node_id, resource, datatype, parse_type, lang, base;
	size_t nprops;             /* in rx->props */
};

struct id_set {
	char **slot;
	size_t cap, count;
};

struct rx {
	xmlParserCtxtPtr ctxt;
	struct ling_input *in;
	const struct kg_parse_opts *opts;
	const struct kg_sink *sink;
	struct ling_err *err;
	int rc;                 /* the first error; 0 while all is well */
	int bad_document;       /* rc is a syntax error, for sink->error */

	struct frame *frames;
	size_t depth;           /* open frames */
	size_t frames_cap;      /* frames initialised */
	unsigned long bnodes;   /* blank nodes invented so far */

	struct ling_buf text;   /* character data of the innermost FRAME_PROP */
	struct ling_buf tmp;
	struct ling_buf iri;    /* the IRI of the element being started */
	struct ling_buf names;  /* property attribute names */
	struct prop_attr *props;
	size_t props_cap;
	struct id_set ids;      /* rdf:ID values seen, resolved: they must be unique (section 7.2.22) */

	/* parseType="Literal" */
	struct ling_buf lit;
	unsigned lit_depth;     /* open elements inside the literal */
	struct lit_ns *ns;
	size_t nns, ns_cap;
	struct lit_attr *lattrs;
	size_t lattrs_cap;
};

static void fail(struct rx *rx, const char *fmt, ...) LING_PRINTF(2, 3);

static void fail(struct rx *rx, const char *fmt, ...)
{
	char msg[sizeof(rx->err->msg)];
	va_list ap;

	if (rx->rc)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rx->rc = ling_err_at(rx->err, LING_EDATA, ling_input_name(rx->in), xmlSAX2GetLineNumber(rx->ctxt),
			     xmlSAX2GetColumnNumber(rx->ctxt), "%s", msg);
	rx->bad_document = 1;
	xmlStopParser(rx->ctxt);
}

/* ---- small helpers ---- */

/* How much of the document text s (n bytes, valid UTF-8) an error message quotes. */
static int clip(const char *s, size_t n)
{
	return (int)ling_utf8_valid_prefix(s, n > 120 ? 120 : n);
}

static int is_xml_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

static int is_name_start(unsigned long c)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0xD6) ||
	       (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) || (c >= 0x370 && c <= 0x37D) ||
	       (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) ||
	       (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) ||
	       (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

static int is_name_char(unsigned long c)
{
	return is_name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == 0xB7 ||
	       (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

/* rdf:ID and rdf:nodeID values must match NCName (Namespaces in XML 1.0, production 4). */
static int is_ncname(const struct str *v)
{
	size_t i = 0, len;
	unsigned long c;

	if (!v->n)
		return 0;
	while (i < v->n) {
		len = ling_utf8_decode(v->s + i, v->n - i, &c);
		if (!len || !(i ? is_name_char(c) : is_name_start(c)))
			return 0;
		i += len;
	}
	return 1;
}

static enum rdf_name rdf_name_of(const char *uri, const char *local)
{
	size_t i;

	if (!uri || strcmp(uri, RDF_NS))
		return RDF_NOT;
	for (i = RDF_RDF; i < sizeof(rdf_names) / sizeof(rdf_names[0]); i++)
		if (!strcmp(local, rdf_names[i]))
			return (enum rdf_name)i;
	return RDF_OTHER;
}

static unsigned long hash_str(const char *s, size_t n)
{
	unsigned long h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* @return 1 when s was in the set already, else adds it and returns 0. */
static int id_set_add(struct id_set *set, const char *s, size_t n)
{
	size_t i;

	if (2 * (set->count + 1) > set->cap) {
		struct id_set bigger;
		size_t j;

		bigger.cap = set->cap ? 2 * set->cap : 64;
		bigger.count = set->count;
		bigger.slot = xcalloc(bigger.cap, sizeof(*bigger.slot));
		for (j = 0; j < set->cap; j++) {
			if (!set->slot[j])
				continue;
			i = hash_str(set->slot[j], strlen(set->slot[j])) & (bigger.cap - 1);
			while (bigger.slot[i])
				i = (i + 1) & (bigger.cap - 1);
			bigger.slot[i] = set->slot[j];
		}
		free(set->slot);
		*set = bigger;
	}
	i = hash_str(s, n) & (set->cap - 1);
	for (; set->slot[i]; i = (i + 1) & (set->cap - 1))
		if (strlen(set->slot[i]) == n && !memcmp(set->slot[i], s, n))
			return 1;
	set->slot[i] = xstrndup(s, n);
	set->count++;
	return 0;
}

static void id_set_release(struct id_set *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* ---- frames, base and language ---- */

static struct frame *top(struct rx *rx)
{
	return rx->depth ? &rx->frames[rx->depth - 1] : NULL;
}

static struct frame *push_frame(struct rx *rx, enum frame_kind kind)
{
	struct frame *f, *parent;

	if (rx->depth == rx->frames_cap) {
		size_t cap = rx->frames_cap;

		rx->frames = xgrow(rx->frames, &cap, rx->depth + 1, sizeof(*rx->frames));
		memset(rx->frames + rx->frames_cap, 0, (cap - rx->frames_cap) * sizeof(*rx->frames));
		rx->frames_cap = cap;
	}
	parent = top(rx);
	f = &rx->frames[rx->depth++];
	f->kind = kind;
	f->base_from = parent ? parent->base_from : -1;
	f->lang_from = parent ? parent->lang_from : -1;
	f->node_type = KG_TERM_BNODE;
	ling_buf_reset(&f->node);
	f->li = 0;
	ling_buf_reset(&f->pred);
	f->has_reif = 0;
	f->has_datatype = 0;
	f->has_object = 0;
	return f;
}

static const char *base_of(const struct rx *rx, const struct frame *f, size_t *len)
{
	if (f && f->base_from >= 0) {
		*len = rx->frames[f->base_from].base.len;
		return rx->frames[f->base_from].base.data;
	}
	*len = rx->opts && rx->opts->base ? strlen(rx->opts->base) : 0;
	return rx->opts ? rx->opts->base : NULL;
}

/* Appends ref resolved against the base in scope at f (RDF/XML section 5.3) to out. */
static int resolve(struct rx *rx, const struct frame *f, const char *ref, size_t n, struct ling_buf *out)
{
	size_t base_len, i;
	const char *base = base_of(rx, f, &base_len);

	/* As in Turtle and N-Triples: an IRI that could not be written back as N-Triples is an error. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ref[i];

		if (c <= 0x20 || strchr("<>\"{}|^`\\", c)) {
			fail(rx, "character not allowed in an IRI: '%.*s'", clip(ref, n), ref);
			return -1;
		}
	}
	if (base) {
		kg_iri_resolve(out, base, base_len, ref, n);
		return 0;
	}
	if (!kg_iri_is_absolute(ref, n)) {
		fail(rx, "relative IRI '%.*s' and no base IRI to resolve it", clip(ref, n), ref);
		return -1;
	}
	/* Resolving against itself removes dot segments, as for any other reference. */
	kg_iri_resolve(out, ref, n, ref, n);
	return 0;
}

/* Applies xml:base and xml:lang of the element that pushed f (XML Base; XML 1.0 section 2.12). */
static int scope_attrs(struct rx *rx, struct frame *f, const struct elem_attrs *a)
{
	int self = (int)(f - rx->frames);

	if (a->base.s) {
		/* Resolve against the parent's base, then make it this element's. */
		ling_buf_reset(&rx->tmp);
		if (resolve(rx, f, a->base.s, a->base.n, &rx->tmp))
			return -1;
		ling_buf_reset(&f->base);
		ling_buf_add(&f->base, rx->tmp.data, rx->tmp.len);
		f->base_from = self;
	}
	if (a->lang.s) {
		ling_buf_reset(&f->lang);
		ling_buf_add(&f->lang, a->lang.s, a->lang.n);
		f->lang_from = a->lang.n ? self : -1;
	}
	return 0;
}

/* ---- terms and output ---- */

static struct kg_term iri_term(const char *s, size_t n)
{
	struct kg_term t;

	memset(&t, 0, sizeof(t));
	t.type = KG_TERM_IRI;
	t.value = s;
	t.len = n;
	return t;
}

static struct kg_term node_term(const struct frame *f)
{
	struct kg_term t;

	memset(&t, 0, sizeof(t));
	t.type = f->node_type;
	t.value = f->node.data ? f->node.data : "";
	t.len = f->node.len;
	return t;
}

static struct kg_term buf_iri(const struct ling_buf *b)
{
	return iri_term(b->data ? b->data : "", b->len);
}

/* A plain literal in the language in scope at f. */
static struct kg_term lang_literal(const struct rx *rx, const struct frame *f, const char *s, size_t n)
{
	struct kg_term t;

	memset(&t, 0, sizeof(t));
	t.type = KG_TERM_LITERAL;
	t.value = s;
	t.len = n;
	if (f->lang_from >= 0) {
		t.lang = rx->frames[f->lang_from].lang.data;
		t.lang_len = rx->frames[f->lang_from].lang.len;
	}
	return t;
}

static int emit(struct rx *rx, const struct kg_term *s, const struct kg_term *p, const struct kg_term *o)
{
	struct kg_quad q;
	int rc;

	if (rx->rc)
		return -1;
	q.s = *s;
	q.p = *p;
	q.o = *o;
	memset(&q.g, 0, sizeof(q.g));
	rc = rx->sink->quad(rx->sink->ctx, &q, rx->err);
	if (rc < 0) {
		rx->rc = rc;
		xmlStopParser(rx->ctxt);
		return -1;
	}
	return 0;
}

/* Emits s p o and, when the property element f has an rdf:ID, its reification (section 7.3). */
static int emit_reified(struct rx *rx, const struct frame *f, const struct kg_term *s, const struct kg_term *p,
			const struct kg_term *o)
{
	struct kg_term r, rp, ro;

	if (emit(rx, s, p, o))
		return -1;
	if (!f->has_reif)
		return 0;
	r = buf_iri(&f->reif);
	rp = iri_term(RDF_NS "type", sizeof(RDF_NS "type") - 1);
	ro = iri_term(RDF_NS "Statement", sizeof(RDF_NS "Statement") - 1);
	if (emit(rx, &r, &rp, &ro))
		return -1;
	rp = iri_term(RDF_NS "subject", sizeof(RDF_NS "subject") - 1);
	if (emit(rx, &r, &rp, s))
		return -1;
	rp = iri_term(RDF_NS "predicate", sizeof(RDF_NS "predicate") - 1);
	if (emit(rx, &r, &rp, p))
		return -1;
	rp = iri_term(RDF_NS "object", sizeof(RDF_NS "object") - 1);
	return emit(rx, &r, &rp, o);
}

static void new_bnode(struct rx *rx, struct ling_buf *out)
{
	ling_buf_reset(out);
	ling_buf_addf(out, "g%lu", ++rx->bnodes);
}

/* rdf:ID="v" names base#v, which no other rdf:ID of the document may name (section 7.2.22). */
static int id_iri(struct rx *rx, const struct frame *f, const struct str *v, struct ling_buf *out)
{
	if (!is_ncname(v)) {
		fail(rx, "rdf:ID '%.*s' is not an XML NCName", clip(v->s, v->n), v->s);
		return -1;
	}
	ling_buf_reset(&rx->tmp);
	ling_buf_addc(&rx->tmp, '#');
	ling_buf_add(&rx->tmp, v->s, v->n);
	ling_buf_reset(out);
	if (resolve(rx, f, rx->tmp.data, rx->tmp.len, out))
		return -1;
	if (id_set_add(&rx->ids, out->data, out->len)) {
		fail(rx, "rdf:ID '%.*s' is used twice with the same base", clip(v->s, v->n), v->s);
		return -1;
	}
	return 0;
}

static int node_id_label(struct rx *rx, const struct str *v, struct ling_buf *out)
{
	if (!is_ncname(v)) {
		fail(rx, "rdf:nodeID '%.*s' is not an XML NCName", clip(v->s, v->n), v->s);
		return -1;
	}
	ling_buf_reset(out);
	ling_buf_addc(out, 'b');
	ling_buf_add(out, v->s, v->n);
	return 0;
}

/* Property attributes (section 7.2.11 and 7.2.21) of subject s, in the language in scope at f. */
static int emit_prop_attrs(struct rx *rx, const struct frame *f, const struct kg_term *s, const struct elem_attrs *a)
{
	size_t i;

	for (i = 0; i < a->nprops; i++) {
		const struct prop_attr *pa = &rx->props[i];
		struct kg_term p = iri_term(rx->names.data + pa->name_off, pa->name_len), o;

		if (pa->is_type) {
			ling_buf_reset(&rx->tmp);
			if (resolve(rx, f, pa->value.s, pa->value.n, &rx->tmp))
				return -1;
			o = buf_iri(&rx->tmp);
		} else {
			o = lang_literal(rx, f, pa->value.s, pa->value.n);
		}
		if (emit(rx, s, &p, &o))
			return -1;
	}
	return 0;
}

/* ---- attributes ---- */

/*
 * Sorts the attributes of an element (section 6.1.4): xml:lang and xml:base
 * apart, other xml* names ignored, unqualified ID, about, resource, parseType
 * and type read as rdf: names, everything else a property attribute.
 */
static int collect_attrs(struct rx *rx, int nb, const xmlChar **attrs, struct elem_attrs *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	ling_buf_reset(&rx->names);
	for (i = 0; i < nb; i++) {
		const char *local = (const char *)attrs[5 * i];
		const char *prefix = (const char *)attrs[5 * i + 1];
		const char *uri = (const char *)attrs[5 * i + 2];
		const char *value = (const char *)attrs[5 * i + 3];
		const char *end = (const char *)attrs[5 * i + 4];
		enum rdf_name name;
		struct prop_attr *pa;
		struct str *slot;

		if (uri && !strcmp(uri, XML_NS)) {
			if (!strcmp(local, "lang"))
				a->lang.s = value, a->lang.n = (size_t)(end - value);
			else if (!strcmp(local, "base"))
				a->base.s = value, a->base.n = (size_t)(end - value);
			continue;
		}
		if (prefix ? !strncasecmp(prefix, "xml", 3) : !strncasecmp(local, "xml", 3))
			continue;
		if (!uri) {
			if (strcmp(local, "ID") && strcmp(local, "about") && strcmp(local, "resource") &&
			    strcmp(local, "parseType") && strcmp(local, "type")) {
				fail(rx, "attribute '%.*s' has no namespace", clip(local, strlen(local)), local);
				return -1;
			}
			uri = RDF_NS;
		}
		name = rdf_name_of(uri, local);
		slot = NULL;
		switch (name) {
		case RDF_ID: slot = &a->id; break;
		case RDF_ABOUT: slot = &a->about; break;
		case RDF_NODE_ID: slot = &a->node_id; break;
		case RDF_RESOURCE: slot = &a->resource; break;
		case RDF_DATATYPE: slot = &a->datatype; break;
		case RDF_PARSE_TYPE: slot = &a->parse_type; break;
		case RDF_RDF:
		case RDF_DESCRIPTION:
		case RDF_LI:
		case RDF_ABOUT_EACH:
		case RDF_ABOUT_EACH_PREFIX:
		case RDF_BAG_ID:
			fail(rx, "rdf:%s is not allowed as an attribute", local);
			return -1;
		case RDF_NOT:
		case RDF_OTHER:
			break;
		}
		if (slot) {
			if (slot->s) {
				fail(rx, "attribute rdf:%s is given twice", local);
				return -1;
			}
			slot->s = value;
			slot->n = (size_t)(end - value);
			continue;
		}
		rx->props = xgrow(rx->props, &rx->props_cap, a->nprops + 1, sizeof(*rx->props));
		pa = &rx->props[a->nprops++];
		pa->name_off = rx->names.len;
		ling_buf_adds(&rx->names, uri);
		ling_buf_adds(&rx->names, local);
		pa->name_len = rx->names.len - pa->name_off;
		if (!kg_iri_is_absolute(rx->names.data + pa->name_off, pa->name_len)) {
			fail(rx, "attribute '%.*s' does not name an absolute IRI (namespace '%.*s')",
			     clip(local, strlen(local)), local, clip(uri, strlen(uri)), uri);
			return -1;
		}
		pa->value.s = value;
		pa->value.n = (size_t)(end - value);
		pa->is_type = name == RDF_OTHER && !strcmp(local, "type");
	}
	return 0;
}

/* ---- node elements (section 7.2.11) ---- */

/* Links the node element f to what holds it: a property element or a collection. */
static int link_node(struct rx *rx, struct frame *f)
{
	struct frame *holder = f - 1, *subject = f - 2;
	struct kg_term s, p, o = node_term(f), rest, first, item;

	if (holder->kind == FRAME_PROP) {
		if (!is_xml_space(rx->text.data, rx->text.len)) {
			fail(rx, "property element holds both text and a node element");
			return -1;
		}
		ling_buf_reset(&rx->text);
		holder->has_object = 1;
		s = node_term(subject);
		p = buf_iri(&holder->pred);
		return emit_reified(rx, holder, &s, &p, &o);
	}
	/* A collection: each item hangs off a fresh list node (section 7.2.19). */
	first = iri_term(RDF_NS "first", sizeof(RDF_NS "first") - 1);
	rest = iri_term(RDF_NS "rest", sizeof(RDF_NS "rest") - 1);
	ling_buf_reset(&rx->tmp);
	ling_buf_addf(&rx->tmp, "g%lu", ++rx->bnodes);
	item = iri_term(rx->tmp.data, rx->tmp.len);
	item.type = KG_TERM_BNODE;
	if (!holder->has_object) {
		s = node_term(subject);
		p = buf_iri(&holder->pred);
		if (emit_reified(rx, holder, &s, &p, &item))
			return -1;
	} else {
		s = iri_term(holder->last.data, holder->last.len);
		s.type = KG_TERM_BNODE;
		if (emit(rx, &s, &rest, &item))
			return -1;
	}
	if (emit(rx, &item, &first, &o))
		return -1;
	ling_buf_reset(&holder->last);
	ling_buf_add(&holder->last, rx->tmp.data, rx->tmp.len);
	holder->has_object = 1;
	return 0;
}

static void node_element(struct rx *rx, const char *iri, size_t iri_len, enum rdf_name name,
			 const struct elem_attrs *a)
{
	struct frame *f;
	struct kg_term s, p, o;

	switch (name) {
	case RDF_NOT:
	case RDF_OTHER:
	case RDF_DESCRIPTION:
		break;
	default:
		fail(rx, "rdf:%s is not allowed as a node element", rdf_names[name]);
		return;
	}
	if (a->resource.s || a->datatype.s || a->parse_type.s) {
		fail(rx, "%s is not allowed on a node element",
		     a->resource.s ? "rdf:resource" : a->datatype.s ? "rdf:datatype" : "rdf:parseType");
		return;
	}
	if (!!a->id.s + !!a->about.s + !!a->node_id.s > 1) {
		fail(rx, "rdf:ID, rdf:about and rdf:nodeID exclude each other");
		return;
	}
	f = push_frame(rx, FRAME_NODE);
	if (scope_attrs(rx, f, a))
		return;
	if (a->id.s) {
		f->node_type = KG_TERM_IRI;
		if (id_iri(rx, f, &a->id, &f->node))
			return;
	} else if (a->about.s) {
		f->node_type = KG_TERM_IRI;
		if (resolve(rx, f, a->about.s, a->about.n, &f->node))
			return;
	} else if (a->node_id.s) {
		if (node_id_label(rx, &a->node_id, &f->node))
			return;
	} else {
		new_bnode(rx, &f->node);
	}
	if (rx->depth > 1 && f[-1].kind != FRAME_RDF && link_node(rx, f))
		return;
	s = node_term(f);
	if (name != RDF_DESCRIPTION) {
		p = iri_term(RDF_NS "type", sizeof(RDF_NS "type") - 1);
		o = iri_term(iri, iri_len);
		if (emit(rx, &s, &p, &o))
			return;
	}
	emit_prop_attrs(rx, f, &s, a);
}

/* ---- property elements (section 7.2.14 to 7.2.21) ---- */

static void property_element(struct rx *rx, const char *iri, size_t iri_len, enum rdf_name name,
			     const struct elem_attrs *a)
{
	struct frame *f, *subject;
	struct kg_term s, p, o;

	switch (name) {
	case RDF_NOT:
	case RDF_OTHER:
	case RDF_LI:
		break;
	default:
		fail(rx, "rdf:%s is not allowed as a property element", rdf_names[name]);
		return;
	}
	if (a->about.s) {
		fail(rx, "rdf:about is not allowed on a property element");
		return;
	}
	f = push_frame(rx, FRAME_PROP);
	subject = f - 1;
	if (scope_attrs(rx, f, a))
		return;
	if (name == RDF_LI)
		ling_buf_addf(&f->pred, RDF_NS "_%lu", ++subject->li);
	else
		ling_buf_add(&f->pred, iri, iri_len);
	if (a->id.s) {
		if (id_iri(rx, f, &a->id, &f->reif))
			return;
		f->has_reif = 1;
	}
	s = node_term(subject);
	p = buf_iri(&f->pred);

	if (a->parse_type.s) {
		if (a->resource.s || a->node_id.s || a->datatype.s || a->nprops) {
			fail(rx, "rdf:parseType excludes rdf:resource, rdf:nodeID, rdf:datatype and "
				 "property attributes");
			return;
		}
		if (a->parse_type.n == 8 && !memcmp(a->parse_type.s, "Resource", 8)) {
			/* section 7.2.18: a fresh blank node that the content describes */
			f->kind = FRAME_NODE;
			new_bnode(rx, &f->node);
			o = node_term(f);
			emit_reified(rx, f, &s, &p, &o);
		} else if (a->parse_type.n == 10 && !memcmp(a->parse_type.s, "Collection", 10)) {
			f->kind = FRAME_COLLECTION;
		} else {
			/* "Literal", and any other value (section 7.2.20) */
			f->kind = FRAME_LITERAL;
			ling_buf_reset(&rx->lit);
			rx->lit_depth = 0;
		}
		return;
	}
	if (a->resource.s || a->node_id.s || a->nprops) {
		/* emptyPropertyElt with an object other than "" (section 7.2.21) */
		if (a->resource.s && a->node_id.s) {
			fail(rx, "rdf:resource and rdf:nodeID exclude each other");
			return;
		}
		if (a->datatype.s) {
			fail(rx, "rdf:datatype is only allowed on a property element with text");
			return;
		}
		f->kind = FRAME_EMPTY;
		if (a->resource.s) {
			f->node_type = KG_TERM_IRI;
			if (resolve(rx, f, a->resource.s, a->resource.n, &f->node))
				return;
		} else if (a->node_id.s) {
			if (node_id_label(rx, &a->node_id, &f->node))
				return;
		} else {
			new_bnode(rx, &f->node);
		}
		o = node_term(f);
		if (emit_reified(rx, f, &s, &p, &o))
			return;
		emit_prop_attrs(rx, f, &o, a);
		return;
	}
	if (a->datatype.s) {
		ling_buf_reset(&f->datatype);
		if (resolve(rx, f, a->datatype.s, a->datatype.n, &f->datatype))
			return;
		f->has_datatype = 1;
	}
	ling_buf_reset(&rx->text);
}

/* The end of a FRAME_PROP without a node element: a literal, "" when empty (section 7.2.16, 7.2.21). */
static void end_literal_property(struct rx *rx, struct frame *f)
{
	struct kg_term s = node_term(f - 1), p = buf_iri(&f->pred), o;

	o = lang_literal(rx, f, rx->text.data ? rx->text.data : "", rx->text.len);
	if (f->has_datatype) {
		o.lang = NULL;
		o.lang_len = 0;
		o.datatype = f->datatype.data;
		o.datatype_len = f->datatype.len;
	}
	emit_reified(rx, f, &s, &p, &o);
}

static void end_collection(struct rx *rx, struct frame *f)
{
	struct kg_term s, p, nil = iri_term(RDF_NS "nil", sizeof(RDF_NS "nil") - 1);

	if (!f->has_object) {
		s = node_term(f - 1);
		p = buf_iri(&f->pred);
		emit_reified(rx, f, &s, &p, &nil);
		return;
	}
	s = iri_term(f->last.data, f->last.len);
	s.type = KG_TERM_BNODE;
	p = iri_term(RDF_NS "rest", sizeof(RDF_NS "rest") - 1);
	emit(rx, &s, &p, &nil);
}

static void end_xml_literal(struct rx *rx, struct frame *f)
{
	struct kg_term s = node_term(f - 1), p = buf_iri(&f->pred), o;

	memset(&o, 0, sizeof(o));
	o.type = KG_TERM_LITERAL;
	o.value = rx->lit.data ? rx->lit.data : "";
	o.len = rx->lit.len;
	o.datatype = RDF_NS "XMLLiteral";
	o.datatype_len = sizeof(RDF_NS "XMLLiteral") - 1;
	emit_reified(rx, f, &s, &p, &o);
}

/* ---- XML literals: Exclusive XML Canonicalization 1.0 of the content ---- */

static void c14n_text(struct ling_buf *b, const char *s, size_t n)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '\r': rep = "&#xD;"; break;
		default: continue;
		}
		ling_buf_add(b, s + from, i - from);
		ling_buf_adds(b, rep);
		from = i + 1;
	}
	ling_buf_add(b, s + from, n - from);
}

static void c14n_attr_value(struct ling_buf *b, const char *s, size_t n)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '"': rep = "&quot;"; break;
		case '\t': rep = "&#x9;"; break;
		case '\n': rep = "&#xA;"; break;
		case '\r': rep = "&#xD;"; break;
		default: continue;
		}
		ling_buf_add(b, s + from, i - from);
		ling_buf_adds(b, rep);
		from = i + 1;
	}
	ling_buf_add(b, s + from, n - from);
}

static void c14n_qname(struct ling_buf *b, const char *prefix, const char *local)
{
	if (prefix) {
		ling_buf_adds(b, prefix);
		ling_buf_addc(b, ':');
	}
	ling_buf_adds(b, local);
}

/*
 * A prefix the element visibly utilises gets a declaration unless the nearest
 * declaration already written for it in the literal binds the same URI
 * (exc-c14n section 3). The default namespace starts out as "".
 */
static void lit_use_ns(struct rx *rx, const char *prefix, const char *uri)
{
	size_t i;
	struct lit_ns *ns;

	for (i = rx->nns; i-- > 0;) {
		if (!strcmp(rx->ns[i].prefix, prefix)) {
			if (!strcmp(rx->ns[i].uri, uri))
				return;
			break;
		}
	}
	if (i == (size_t)-1 && !*prefix && !*uri)
		return;
	rx->ns = xgrow(rx->ns, &rx->ns_cap, rx->nns + 1, sizeof(*rx->ns));
	ns = &rx->ns[rx->nns++];
	ns->prefix = xstrdup(prefix);
	ns->uri = xstrdup(uri);
	ns->depth = rx->lit_depth;
}

static int cmp_ns(const void *a, const void *b)
{
	return strcmp(((const struct lit_ns *)a)->prefix, ((const struct lit_ns *)b)->prefix);
}

static int cmp_lit_attr(const void *pa, const void *pb)
{
	const struct lit_attr *a = pa, *b = pb;
	int c = strcmp(a->uri ? a->uri : "", b->uri ? b->uri : "");

	return c ? c : strcmp(a->local, b->local);
}

static void lit_start(struct rx *rx, const char *local, const char *prefix, const char *uri, int nb_attrs,
		      const xmlChar **attrs)
{
	struct ling_buf *b = &rx->lit;
	size_t first_ns, i;
	int k;

	rx->lit_depth++;
	ling_buf_addc(b, '<');
	c14n_qname(b, prefix, local);

	first_ns = rx->nns;
	if (!prefix || strcmp(prefix, "xml"))
		lit_use_ns(rx, prefix ? prefix : "", uri ? uri : "");
	rx->lattrs = xgrow(rx->lattrs, &rx->lattrs_cap, (size_t)nb_attrs + 1, sizeof(*rx->lattrs));
	for (k = 0; k < nb_attrs; k++) {
		struct lit_attr *la = &rx->lattrs[k];

		la->local = (const char *)attrs[5 * k];
		la->prefix = (const char *)attrs[5 * k + 1];
		la->uri = (const char *)attrs[5 * k + 2];
		la->value = (const char *)attrs[5 * k + 3];
		la->len = (size_t)(attrs[5 * k + 4] - attrs[5 * k + 3]);
		/* xml: is bound by definition and never declared */
		if (la->prefix && la->uri && strcmp(la->prefix, "xml"))
			lit_use_ns(rx, la->prefix, la->uri);
	}
	if (rx->nns - first_ns > 1)
		qsort(rx->ns + first_ns, rx->nns - first_ns, sizeof(*rx->ns), cmp_ns);
	for (i = first_ns; i < rx->nns; i++) {
		ling_buf_adds(b, *rx->ns[i].prefix ? " xmlns:" : " xmlns");
		ling_buf_adds(b, rx->ns[i].prefix);
		ling_buf_add(b, "=\"", 2);
		c14n_attr_value(b, rx->ns[i].uri, strlen(rx->ns[i].uri));
		ling_buf_addc(b, '"');
	}
	if (nb_attrs > 1)
		qsort(rx->lattrs, (size_t)nb_attrs, sizeof(*rx->lattrs), cmp_lit_attr);
	for (k = 0; k < nb_attrs; k++) {
		ling_buf_addc(b, ' ');
		c14n_qname(b, rx->lattrs[k].prefix, rx->lattrs[k].local);
		ling_buf_add(b, "=\"", 2);
		c14n_attr_value(b, rx->lattrs[k].value, rx->lattrs[k].len);
		ling_buf_addc(b, '"');
	}
	ling_buf_addc(b, '>');
}

static void lit_end(struct rx *rx, const char *local, const char *prefix)
{
	ling_buf_add(&rx->lit, "</", 2);
	c14n_qname(&rx->lit, prefix, local);
	ling_buf_addc(&rx->lit, '>');
	while (rx->nns && rx->ns[rx->nns - 1].depth >= rx->lit_depth) {
		rx->nns--;
		free(rx->ns[rx->nns].prefix);
		free(rx->ns[rx->nns].uri);
	}
	rx->lit_depth--;
}

static int in_literal(struct rx *rx)
{
	return rx->depth && top(rx)->kind == FRAME_LITERAL;
}

/* ---- SAX handlers ---- */

static void on_start(void *ud, const xmlChar *xlocal, const xmlChar *xprefix, const xmlChar *xuri, int nb_ns,
		     const xmlChar **ns, int nb_attrs, int nb_defaulted, const xmlChar **attrs)
{
	struct rx *rx = ud;
	const char *local = (const char *)xlocal, *uri = (const char *)xuri;
	struct frame *parent = top(rx);
	struct elem_attrs a;
	enum rdf_name name;

	(void)nb_ns;
	(void)ns;
	(void)nb_defaulted;
	if (rx->rc)
		return;
	if (in_literal(rx)) {
		lit_start(rx, local, (const char *)xprefix, uri, nb_attrs, attrs);
		return;
	}
	if (!uri) {
		fail(rx, "element '%.*s' has no namespace", clip(local, strlen(local)), local);
		return;
	}
	if (collect_attrs(rx, nb_attrs, attrs, &a))
		return;
	name = rdf_name_of(uri, local);
	/* The element's IRI is namespace name + local name (section 6.1.2). */
	ling_buf_reset(&rx->iri);
	ling_buf_adds(&rx->iri, uri);
	ling_buf_adds(&rx->iri, local);
	if (!kg_iri_is_absolute(rx->iri.data, rx->iri.len)) {
		/* A relative namespace name (allowed by XML, deprecated) cannot make an RDF IRI. */
		fail(rx, "element '%.*s' does not name an absolute IRI (namespace '%.*s')", clip(local, strlen(local)),
		     local, clip(uri, strlen(uri)), uri);
		return;
	}
	if (!parent && name == RDF_RDF) {
		if (a.id.s || a.about.s || a.node_id.s || a.resource.s || a.datatype.s || a.parse_type.s || a.nprops)
			fail(rx, "rdf:RDF takes no attributes but xml:lang, xml:base and namespaces");
		else
			scope_attrs(rx, push_frame(rx, FRAME_RDF), &a);
	} else if (!parent || parent->kind == FRAME_RDF || parent->kind == FRAME_COLLECTION) {
		node_element(rx, rx->iri.data, rx->iri.len, name, &a);
	} else if (parent->kind == FRAME_NODE) {
		property_element(rx, rx->iri.data, rx->iri.len, name, &a);
	} else if (parent->kind == FRAME_EMPTY) {
		fail(rx, "a property element with rdf:resource, rdf:nodeID or property attributes must be empty");
	} else if (parent->has_datatype) {
		fail(rx, "a property element with rdf:datatype holds only text");
	} else if (parent->has_object) {
		fail(rx, "a property element holds at most one node element");
	} else {
		node_element(rx, rx->iri.data, rx->iri.len, name, &a);
	}
}

static void on_end(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	struct rx *rx = ud;
	struct frame *f = top(rx);

	(void)uri;
	if (rx->rc || !f)
		return;
	if (f->kind == FRAME_LITERAL && rx->lit_depth) {
		lit_end(rx, (const char *)local, (const char *)prefix);
		return;
	}
	switch (f->kind) {
	case FRAME_PROP:
		if (!f->has_object)
			end_literal_property(rx, f);
		break;
	case FRAME_COLLECTION:
		end_collection(rx, f);
		break;
	case FRAME_LITERAL:
		end_xml_literal(rx, f);
		break;
	case FRAME_RDF:
	case FRAME_NODE:
	case FRAME_EMPTY:
		break;
	}
	rx->depth--;
}

static void on_text(void *ud, const xmlChar *xs, int len)
{
	struct rx *rx = ud;
	struct frame *f = top(rx);
	const char *s = (const char *)xs;

	if (rx->rc || !f)
		return;
	if (f->kind == FRAME_LITERAL)
		c14n_text(&rx->lit, s, (size_t)len);
	else if (f->kind == FRAME_PROP && !f->has_object)
		ling_buf_add(&rx->text, s, (size_t)len);
	else if (!is_xml_space(s, (size_t)len))
		fail(rx, "text is not allowed here, only %s",
		     f->kind == FRAME_NODE ? "property elements" :
		     f->kind == FRAME_EMPTY ? "white space" :
		     f->kind == FRAME_PROP ? "one node element" : "node elements");
}

static void on_comment(void *ud, const xmlChar *text)
{
	struct rx *rx = ud;

	if (rx->rc || !in_literal(rx))
		return;
	ling_buf_add(&rx->lit, "<!--", 4);
	ling_buf_adds(&rx->lit, (const char *)text);
	ling_buf_add(&rx->lit, "-->", 3);
}

static void on_pi(void *ud, const xmlChar *target, const xmlChar *data)
{
	struct rx *rx = ud;

	if (rx->rc || !in_literal(rx))
		return;
	ling_buf_add(&rx->lit, "<?", 2);
	ling_buf_adds(&rx->lit, (const char *)target);
	if (data && *data) {
		ling_buf_addc(&rx->lit, ' ');
		ling_buf_adds(&rx->lit, (const char *)data);
	}
	ling_buf_add(&rx->lit, "?>", 2);
}

/*
 * The internal DTD subset is kept (in a document that holds nothing else)
 * only so that its entity declarations can be looked up. Our own getEntity
 * never loads an external entity: xmlSAX2GetEntity would, since the parser
 * replaces entities.
 */
static void on_start_document(void *ud)
{
	struct rx *rx = ud;

	xmlSAX2StartDocument(rx->ctxt);
}

static void on_internal_subset(void *ud, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
	struct rx *rx = ud;

	xmlSAX2InternalSubset(rx->ctxt, name, external_id, system_id);
}

static void on_entity_decl(void *ud, const xmlChar *name, int type, const xmlChar *public_id,
			   const xmlChar *system_id, xmlChar *content)
{
	struct rx *rx = ud;

	xmlSAX2EntityDecl(rx->ctxt, name, type, public_id, system_id, content);
}

static xmlEntityPtr on_get_entity(void *ud, const xmlChar *name)
{
	struct rx *rx = ud;
	xmlEntityPtr e = xmlGetPredefinedEntity(name);

	if (e || rx->rc || !rx->ctxt->myDoc)
		return e;
	e = xmlGetDocEntity(rx->ctxt->myDoc, name);
	if (e && e->etype == XML_EXTERNAL_GENERAL_PARSED_ENTITY) {
		fail(rx, "external entity '%.*s' is not loaded", clip((const char *)name, strlen((const char *)name)),
		     (const char *)name);
		return NULL;
	}
	return e;
}

static xmlEntityPtr on_get_parameter_entity(void *ud, const xmlChar *name)
{
	struct rx *rx = ud;
	xmlEntityPtr e;

	if (rx->rc || !rx->ctxt->myDoc)
		return NULL;
	e = xmlGetParameterEntity(rx->ctxt->myDoc, name);
	if (e && e->etype == XML_EXTERNAL_PARAMETER_ENTITY) {
		fail(rx, "external parameter entity '%.*s' is not loaded",
		     clip((const char *)name, strlen((const char *)name)), (const char *)name);
		return NULL;
	}
	return e;
}

/*
 * Makes a libxml2 message fit ours: one line, with white space runs as one
 * space, no trailing '.' or '!', not capitalised, cut at valid UTF-8.
 */
static void tidy_message(char *msg)
{
	size_t i, n = 0;

	for (i = 0; msg[i]; i++) {
		char c = (unsigned char)msg[i] < 0x20 ? ' ' : msg[i];

		if (c == ' ' && (!n || msg[n - 1] == ' '))
			continue;
		msg[n++] = c;
	}
	while (n && (msg[n - 1] == ' ' || msg[n - 1] == '.' || msg[n - 1] == '!'))
		n--;
	n = ling_utf8_valid_prefix(msg, n);
	msg[n] = '\0';
	if (msg[0] >= 'A' && msg[0] <= 'Z' && !(msg[1] >= 'A' && msg[1] <= 'Z'))
		msg[0] = (char)(msg[0] - 'A' + 'a');
}

/* libxml2's errors, well-formedness first among them, become our positioned error. */
static void on_xml_error(void *ud, rx_xml_error *e)
{
	struct rx *rx = ud;
	char msg[300];

	if (!rx || !e || e->level < XML_ERR_ERROR || rx->rc)
		return;
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "malformed xml");
	tidy_message(msg);
	rx->rc = ling_err_at(rx->err, LING_EDATA, ling_input_name(rx->in), e->line, e->int2 > 0 ? e->int2 : 0,
			     "xml: %s", msg);
	rx->bad_document = 1;
	/* No xmlStopParser() here: libxml2 2.9 frees the input buffer it is still reading when stopped from
	 * inside its own error callback (tests/fuzz/crashes/rdfxml-encoding-*). The handlers ignore events
	 * once rx->rc is set, and the read loop stops feeding chunks. */
}

static void ignore_generic_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void rx_release(struct rx *rx)
{
	size_t i;

	for (i = 0; i < rx->frames_cap; i++) {
		struct frame *f = &rx->frames[i];

		ling_buf_release(&f->base);
		ling_buf_release(&f->lang);
		ling_buf_release(&f->node);
		ling_buf_release(&f->pred);
		ling_buf_release(&f->reif);
		ling_buf_release(&f->datatype);
		ling_buf_release(&f->last);
	}
	free(rx->frames);
	for (i = 0; i < rx->nns; i++) {
		free(rx->ns[i].prefix);
		free(rx->ns[i].uri);
	}
	free(rx->ns);
	free(rx->lattrs);
	free(rx->props);
	ling_buf_release(&rx->text);
	ling_buf_release(&rx->tmp);
	ling_buf_release(&rx->iri);
	ling_buf_release(&rx->names);
	ling_buf_release(&rx->lit);
	id_set_release(&rx->ids);
}

int kg_parse_rdfxml(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		    struct ling_err *err)
{
	xmlStructuredErrorFunc old_serror;
	xmlGenericErrorFunc old_generic;
	void *old_serror_ctx, *old_generic_ctx;
	xmlSAXHandler sax;
	struct rx rx;
	char *buf;
	ssize_t n;

	xmlInitParser();
	memset(&rx, 0, sizeof(rx));
	rx.in = in;
	rx.opts = opts;
	rx.sink = sink;
	rx.err = err;

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startDocument = on_start_document;
	sax.internalSubset = on_internal_subset;
	sax.entityDecl = on_entity_decl;
	sax.getEntity = on_get_entity;
	sax.getParameterEntity = on_get_parameter_entity;
	sax.startElementNs = on_start;
	sax.endElementNs = on_end;
	sax.characters = on_text;
	sax.cdataBlock = on_text;
	sax.ignorableWhitespace = on_text;
	sax.comment = on_comment;
	sax.processingInstruction = on_pi;
	sax.serror = on_xml_error;

	/* Errors raised without a parser context would otherwise reach stderr. */
	old_serror = xmlStructuredError;
	old_serror_ctx = xmlStructuredErrorContext;
	old_generic = xmlGenericError;
	old_generic_ctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(&rx, on_xml_error);
	xmlSetGenericErrorFunc(NULL, ignore_generic_error);

	buf = xmalloc(CHUNK_SIZE);
	n = ling_input_read(in, buf, CHUNK_SIZE, err);
	if (n < 0) {
		rx.rc = (int)n;
		goto fail;
	}
	if (n == 0) {
		/* libxml2 would call it "extra content at the end of the document" */
		rx.rc = ling_err_at(err, LING_EDATA, ling_input_name(in), 1, 1, "empty document, expected rdf/xml");
		rx.bad_document = 1;
		goto fail;
	}
	/* The first chunk goes in at creation, so that libxml2 sees the encoding. */
	rx.ctxt = xmlCreatePushParserCtxt(&sax, &rx, buf, (int)n, NULL);
	if (!rx.ctxt) {
		rx.rc = ling_err_set(err, LING_EDATA, "cannot create an xml parser");
		goto fail;
	}
	xmlCtxtUseOptions(rx.ctxt, XML_PARSE_NOENT | XML_PARSE_NONET | XML_PARSE_NOWARNING);
	do {
		n = ling_input_read(in, buf, CHUNK_SIZE, err);
		if (n < 0) {
			rx.rc = (int)n;
			goto fail;
		}
		xmlParseChunk(rx.ctxt, buf, (int)n, n == 0);
	} while (n > 0 && !rx.rc);
	if (!rx.rc && (!rx.ctxt->wellFormed || rx.depth)) {
		rx.rc = ling_err_at(err, LING_EDATA, ling_input_name(in), xmlSAX2GetLineNumber(rx.ctxt),
				    xmlSAX2GetColumnNumber(rx.ctxt), "malformed xml");
		rx.bad_document = 1;
	}
	if (rx.rc)
		goto fail;
	if (sink->commit)
		sink->commit(sink->ctx);

fail:
	if (rx.rc) {
		/* The whole document is one statement: no triple of a bad one is kept. */
		if (sink->rollback)
			sink->rollback(sink->ctx);
		/*
		 * There is no recovery inside a document: a sink that skips the
		 * bad statement skips the rest of the document, and the parse
		 * counts as a success, as for the other syntaxes.
		 */
		if (rx.bad_document && sink->error && sink->error(sink->ctx, err) == 0) {
			ling_err_clear(err);
			rx.rc = 0;
		}
	}
	if (rx.ctxt) {
		if (rx.ctxt->myDoc)
			xmlFreeDoc(rx.ctxt->myDoc);
		rx.ctxt->myDoc = NULL;
		xmlFreeParserCtxt(rx.ctxt);
	}
	xmlSetStructuredErrorFunc(old_serror_ctx, old_serror);
	xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
	free(buf);
	rx_release(&rx);
	return rx.rc;
}
