/* Unit tests of kg_tools: entity names, the catalogue (naming, schemas, uniqueness) and calls. */
#include "tap.h"
#include "fixture.h"
#include "common/ling_err.h"
#include "common/ling_input.h"
#include "common/ling_mem.h"
#include "kg/kg.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/banned.h"

static char tmpdir[4096];

/* A new store in tmpdir/name holding the Turtle text. NULL (and a failed test) when that fails. */
static struct kg_store *make_store(const char *name, const char *turtle)
{
	struct ling_buf dir = LING_BUF_INIT;
	struct kg_store *st = NULL;
	struct kg_load_counts counts = { 0 };
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	ling_buf_addf(&dir, "%s/%s", tmpdir, name);
	rc = kg_store_open(&st, dir.data, KG_STORE_CREATE, &err);
	if (!rc)
		rc = fixture_load(st, name, KG_FORMAT_TURTLE, turtle, NULL, 0, &counts, &err);
	if (!ok(rc == 0, "store %s: loaded %llu quads", name, (unsigned long long)counts.quads_changed)) {
		diag("%s:%ld: %s", err.file, err.line, err.msg);
		kg_store_close(st);
		st = NULL;
	}
	ling_buf_release(&dir);
	return st;
}

static kg_id iri(struct kg_store *st, const char *nt)
{
	struct ling_err err;
	kg_id id = 0;
	int found = 0;

	ling_err_clear(&err);
	if (kg_store_nt_id(st, nt, &id, &found, &err) || !found)
		diag("no term %s in the store", nt);
	return id;
}

/* The name of an entity, "(none)" without a label. */
static const char *name_of(struct kg_store *st, const char *nt, const char *lang, struct ling_buf *b)
{
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	ling_buf_reset(b);
	rc = kg_entity_name(st, iri(st, nt), lang, b, &err);
	if (rc < 0)
		return "(error)";
	return rc ? b->data : "(none)";
}

/* The result of a call, or "error N: message". */
static const char *call(struct kg_store *st, const struct kg_toolset *ts, const char *tool, const char *args,
			struct ling_buf *b)
{
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	rc = kg_tool_call(st, ts, tool, args, b, &err);
	if (rc) {
		ling_buf_reset(b);
		ling_buf_addf(b, "error %d: %s", rc, err.msg);
	}
	return b->data;
}

static int call_rc(struct kg_store *st, const struct kg_toolset *ts, const char *tool, const char *args,
		   char *msg, size_t cap)
{
	struct ling_buf b = LING_BUF_INIT;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	rc = kg_tool_call(st, ts, tool, args, &b, &err);
	snprintf(msg, cap, "%s", err.msg);
	ling_buf_release(&b);
	return rc;
}

static int valid_name(const char *s)
{
	size_t i;

	if (!s || !(*s >= 'a' && *s <= 'z') || strlen(s) > 64)
		return 0;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static struct kg_toolset *build(struct kg_store *st, uint64_t min_facts, const char *lang)
{
	struct kg_toolset_opts opts = { min_facts, lang };
	struct kg_toolset *ts = NULL;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	rc = kg_toolset_build(st, &opts, &ts, &err);
	if (!ok(rc == 0 && ts, "toolset built (min_facts %llu)", (unsigned long long)min_facts))
		diag("%s", err.msg);
	return ts;
}

static void check_catalogue_invariants(const struct kg_toolset *ts, const char *what)
{
	size_t i, j, bad = 0, dup = 0, twins = 0;

	for (i = 0; i < ts->ntools; i++) {
		const struct kg_tool *t = &ts->tools[i];

		bad += !valid_name(t->name);
		for (j = 0; j < i; j++)
			dup += !strcmp(t->name, ts->tools[j].name);
		if (t->kind == KG_TOOL_FORWARD || t->kind == KG_TOOL_INVERSE)
			twins += t->twin < ts->ntools && ts->tools[t->twin].twin == i &&
				 ts->tools[t->twin].predicate == t->predicate && ts->tools[t->twin].kind != t->kind;
		else
			twins++;
		if (kg_toolset_find(ts, t->name) != t)
			bad++;
	}
	is_int(bad, 0, "%s: every name is snake_case of at most 64 characters and found by kg_toolset_find", what);
	is_int(dup, 0, "%s: names are unique", what);
	is_int(twins, ts->ntools, "%s: each relation tool's twin is the other direction of the same predicate", what);
}

static const struct kg_tool *tool(const struct kg_toolset *ts, const char *name)
{
	const struct kg_tool *t = kg_toolset_find(ts, name);

	if (!t) {
		size_t i;

		diag("no tool %s; the catalogue:", name);
		for (i = 0; i < ts->ntools; i++)
			diag("  %s", ts->tools[i].name);
	}
	return t;
}

static const char films_ttl[] =
	"@prefix ex: <http://ex.org/> .\n"
	"@prefix o: <http://other.org/vocab#> .\n"
	"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
	"@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
	"@prefix schema: <http://schema.org/> .\n"
	"@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
	"ex:directedBy rdfs:label \"directed by\"@en ; rdfs:domain ex:Film ; rdfs:range ex:Person .\n"
	"ex:Film rdfs:label \"Film\"@en . ex:Person rdfs:label \"Person\"@en .\n"
	"ex:alien ex:directedBy ex:scott ; ex:hasGenre ex:scifi ; ex:year \"1979\"^^xsd:gYear ;\n"
	"  rdfs:label \"Alien\"@en, \"Alien \\u2013 Das unheimliche Wesen\"@de .\n"
	"ex:blade ex:directedBy ex:scott ; ex:hasGenre ex:scifi ; ex:year \"1982\"^^xsd:gYear ; rdfs:label \"Blade Runner\"@en .\n"
	"ex:witness ex:directedBy ex:weir ; ex:hasGenre ex:thriller ; ex:year \"1985\"^^xsd:gYear ; rdfs:label \"Witness\"@en .\n"
	"ex:heat ex:hasGenre ex:crime ; rdfs:label \"Alien\"@en .\n"
	"ex:odd ex:hasGenre ex:crime ; rdfs:label \"Wei\\\"rd \\u00e4\"@en .\n"
	"ex:scott rdfs:label \"Ridley Scott\"@en ; ex:birthPlace ex:ss .\n"
	"ex:weir schema:name \"Peter Weir\" ; ex:birthPlace ex:sydney .\n"
	"ex:ss rdfs:label \"South Shields\"@en-gb .\n"
	"ex:scifi rdfs:label \"science fiction\" . ex:crime rdfs:label \"crime\"@en .\n"
	"ex:sydney rdfs:label \"Sydney\"@fr ; skos:prefLabel \"Sydney NSW\"@en .\n"
	"ex:u rdfs:label \"untagged\" ; skos:prefLabel \"pref\"@en .\n"
	"ex:alien o:genre ex:scifi . ex:blade o:genre ex:scifi .\n";

static void test_names(struct kg_store *st)
{
	struct ling_buf b = LING_BUF_INIT;

	is_str(name_of(st, "<http://ex.org/alien>", "en", &b), "Alien", "name: the rdfs:label in the language");
	is_str(name_of(st, "<http://ex.org/alien>", "DE", &b), "Alien \xe2\x80\x93 Das unheimliche Wesen",
	       "name: the language tag is compared without case");
	is_str(name_of(st, "<http://ex.org/alien>", "fr", &b), "Alien", "name: no label in fr: the smallest in any language");
	is_str(name_of(st, "<http://ex.org/alien>", NULL, &b), "Alien", "name: NULL lang means en");
	is_str(name_of(st, "<http://ex.org/ss>", "en", &b), "South Shields", "name: en finds en-gb");
	is_str(name_of(st, "<http://ex.org/weir>", "en", &b), "Peter Weir", "name: schema:name when there is no rdfs:label");
	is_str(name_of(st, "<http://ex.org/sydney>", "en", &b), "Sydney NSW",
	       "name: skos:prefLabel@en beats an rdfs:label in another language");
	is_str(name_of(st, "<http://ex.org/sydney>", "fr", &b), "Sydney", "name: rdfs:label@fr in fr");
	is_str(name_of(st, "<http://ex.org/u>", "en", &b), "untagged", "name: an untagged rdfs:label beats skos:prefLabel@en");
	is_str(name_of(st, "<http://ex.org/thriller>", "en", &b), "(none)", "name: no label: 0, nothing appended");
	ling_buf_reset(&b);
	ling_buf_adds(&b, "x");
	{
		struct ling_err err;

		ling_err_clear(&err);
		kg_entity_name(st, iri(st, "<http://ex.org/scott>"), "en", &b, &err);
		is_str(b.data, "xRidley Scott", "name: appended to out");
	}
	ling_buf_release(&b);
}

static void test_catalogue(struct kg_store *st)
{
	struct kg_toolset *ts = build(st, 1, "en"), *ts3;
	const struct kg_tool *t;
	size_t i, relation_tools = 0;
	int sorted = 1;

	if (!ts)
		return;
	check_catalogue_invariants(ts, "films");
	t = tool(ts, "get_film_director");
	ok(t && t->kind == KG_TOOL_FORWARD, "schema labels: \"directed by\" with domain Film is get_film_director");
	if (t) {
		is_str(t->schema,
		       "{\"type\":\"function\",\"function\":{\"name\":\"get_film_director\",\"description\":\"Returns the "
		       "director of a film.\",\"parameters\":{\"type\":\"object\",\"properties\":{\"film\":{\"type\":"
		       "\"string\",\"description\":\"The name of the film.\"}},\"required\":[\"film\"],"
		       "\"additionalProperties\":false}}}",
		       "schema: the OpenAI tool object, compact, fixed key order");
		is_str(t->parameters,
		       "{\"type\":\"object\",\"properties\":{\"film\":{\"type\":\"string\",\"description\":\"The name of "
		       "the film.\"}},\"required\":[\"film\"],\"additionalProperties\":false}",
		       "parameters: the JSON Schema alone");
		is_str(t->param, "film", "param of the forward tool: the subject noun");
		is_str(t->relation_phrase, "director", "relation phrase: the agent noun of \"directed by\"");
		is_str(t->subject_noun, "film", "subject noun: the label of rdfs:domain, lowercased");
		is_str(t->object_noun, "person", "object noun: the label of rdfs:range");
		is_int(t->form, KG_PHRASE_NOUN, "form: noun");
		is_int(t->facts, 3, "facts: triples of the predicate");
		is_str(t->predicate_iri, "http://ex.org/directedBy", "predicate_iri: without <>");
		is_str(ts->tools[t->twin].name, "find_films_by_director", "twin: the inverse tool");
		is_str(ts->tools[t->twin].description, "Returns the films whose director is the given person.",
		       "inverse description");
		is_str(ts->tools[t->twin].param, "director", "param of the inverse tool: the relation");
	}
	t = tool(ts, "get_birth_place");
	ok(t && !strcmp(t->object_noun, "place") && !strcmp(t->subject_noun, "entity"),
	   "no schema: camelCase local name, object noun from the head noun, subject unknown");
	ok(tool(ts, "find_entities_by_birth_place") != NULL, "no schema: the inverse of an unknown subject");
	/* hasGenre and other.org's genre: both "genre", told apart by their local names. */
	ok(tool(ts, "get_has_genre") && tool(ts, "get_genre") && tool(ts, "find_entities_by_has_genre") &&
	   tool(ts, "find_entities_by_genre"),
	   "collision: ex:hasGenre and o:genre get names from their whole local names");
	ok(!kg_toolset_find(ts, "get_label"), "no tools for rdfs:label");
	t = tool(ts, "get_year");
	ok(t && t->value == KG_VALUE_YEAR && ts->tools[t->twin].value == KG_VALUE_YEAR &&
	   !strcmp(ts->tools[t->twin].name, "find_entities_by_year"),
	   "a predicate with gYear objects is a year relation: get_year, find_entities_by_year");
	ok(tool(ts, "get_film_director")->value == KG_VALUE_ENTITY, "a relation between entities: KG_VALUE_ENTITY");
	for (i = 0; i < ts->ntools; i++) {
		const struct kg_tool *x = &ts->tools[i];

		relation_tools += x->kind == KG_TOOL_FORWARD || x->kind == KG_TOOL_INVERSE;
		sorted &= x->kind != KG_TOOL_FORWARD || (i % 2 == 0 && x->twin == i + 1 &&
			  (i == 0 || strcmp(ts->tools[i - 2].predicate_iri, x->predicate_iri) < 0));
	}
	ok(sorted, "relation tools in predicate IRI order, forward then inverse");
	is_int(relation_tools, 10, "five relations, two tools each");
	is_int(ts->ntools, 14, "plus intersection, union, difference, search_entities");
	is_str(ts->tools[ts->ntools - 4].name, "intersection", "logic tools last: intersection");
	is_str(ts->tools[ts->ntools - 1].name, "search_entities", "logic tools last: search_entities");
	is_str(kg_toolset_find(ts, "intersection")->schema,
	       "{\"type\":\"function\",\"function\":{\"name\":\"intersection\",\"description\":\"Returns the names "
	       "that are in every one of the given lists.\",\"parameters\":{\"type\":\"object\",\"properties\":{"
	       "\"sets\":{\"type\":\"array\",\"description\":\"Two or more lists of names.\",\"items\":{\"type\":"
	       "\"array\",\"items\":{\"type\":\"string\"}},\"minItems\":2}},\"required\":[\"sets\"],"
	       "\"additionalProperties\":false}}}",
	       "intersection schema");
	is_str(kg_toolset_find(ts, "difference")->parameters,
	       "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"description\":\"The names to "
	       "keep.\",\"items\":{\"type\":\"string\"}},\"exclude\":{\"type\":\"array\",\"description\":\"The "
	       "names to remove.\",\"items\":{\"type\":\"string\"}}},\"required\":[\"items\",\"exclude\"],"
	       "\"additionalProperties\":false}",
	       "difference parameters");
	ok(kg_toolset_find(ts, "no_such_tool") == NULL, "find: an unknown name is NULL");

	ts3 = build(st, 3, NULL);
	if (ts3) {
		is_int(ts3->ntools, 10, "min_facts 3: relations with fewer triples get no tools");
		ok(kg_toolset_find(ts3, "get_film_director") && !kg_toolset_find(ts3, "get_birth_place") &&
		   !kg_toolset_find(ts3, "get_has_genre") && kg_toolset_find(ts3, "get_year"),
		   "min_facts 3: directedBy, hasGenre and year only");
		ok(kg_toolset_find(ts3, "get_genre") &&
		   !strcmp(kg_toolset_find(ts3, "get_genre")->predicate_iri, "http://ex.org/hasGenre"),
		   "min_facts 3: without o:genre, ex:hasGenre takes the short name get_genre");
		is_str(ts3->lang, "en", "lang NULL means en");
	}
	kg_toolset_free(ts3);
	kg_toolset_free(ts);
	kg_toolset_free(NULL);
}

static void test_calls(struct kg_store *st)
{
	struct kg_toolset *ts = build(st, 1, "en"), *de;
	struct ling_buf b = LING_BUF_INIT;
	char msg[512];

	if (!ts)
		return;
	is_str(call(st, ts, "get_film_director", "{\"film\":\"Witness\"}", &b), "[\"Peter Weir\"]", "forward");
	is_str(call(st, ts, "find_films_by_director", "{\"director\":\"Ridley Scott\"}", &b), "[\"Alien\",\"Blade Runner\"]",
	       "inverse: names sorted");
	is_str(call(st, ts, "get_has_genre", "{\"entity\":\"Alien\"}", &b), "[\"crime\",\"science fiction\"]",
	       "an ambiguous name answers for every entity with that name");
	is_str(call(st, ts, "get_film_director", "{\"film\":\"Alien\"}", &b), "[\"Ridley Scott\"]",
	       "ambiguous: the other Alien has no director");
	is_str(call(st, ts, "get_has_genre", "{\"entity\":\"Witness\"}", &b), "[\"<http://ex.org/thriller>\"]",
	       "an unlabelled entity is named by its N-Triples form");
	is_str(call(st, ts, "find_entities_by_has_genre", "{\"genre\":\"<http://ex.org/thriller>\"}", &b),
	       "[\"Witness\"]", "... and that name resolves back to it");
	is_str(call(st, ts, "find_entities_by_has_genre", "{\"genre\":\"<http://ex.org/crime>\"}", &b),
	       "error -2: find_entities_by_has_genre: no entity is named \"<http://ex.org/crime>\"",
	       "a labelled entity is not named by its IRI");
	is_str(call(st, ts, "find_entities_by_has_genre", "{\"genre\":\"crime\"}", &b), "[\"Alien\",\"Wei\\\"rd \xc3\xa4\"]",
	       "escaped as JSON, non-ASCII kept as UTF-8, sorted by bytes");
	is_str(call(st, ts, "get_film_director", "{\"film\":\"alien\"}", &b),
	       "error -2: get_film_director: no entity is named \"alien\"", "names are exact (case matters)");
	is_str(call(st, ts, "get_film_director", "{\"film\":\"Ridley Scott\"}", &b), "[]", "no fact: []");
	is_str(call(st, ts, "get_birth_place", "{\"entity\":\"Peter Weir\"}", &b), "[\"Sydney NSW\"]",
	       "results are display names in the toolset's language");
	is_str(call(st, ts, "search_entities", "{\"name\":\"ALIEN\"}", &b), "[\"Alien\"]",
	       "search: case-insensitive, display names, distinct");
	is_str(call(st, ts, "search_entities", "{\"name\":\"sydney\"}", &b), "[\"Sydney NSW\"]",
	       "search: any label in any language, answered with the display name");
	is_str(call(st, ts, "search_entities", "{\"name\":\"nobody\"}", &b), "[]", "search: nothing found is []");
	is_str(call(st, ts, "intersection", "{\"sets\":[[\"a\",\"b\",\"c\",\"b\"],[\"c\",\"b\"],[\"b\",\"x\",\"c\"]]}", &b),
	       "[\"b\",\"c\"]", "intersection of three sets");
	is_str(call(st, ts, "intersection", "{\"sets\":[[\"a\"],[]]}", &b), "[]", "intersection with an empty set");
	is_str(call(st, ts, "union", "{\"sets\":[[\"b\",\"\xc3\xa4\"],[\"B\",\"b\"]]}", &b), "[\"B\",\"b\",\"\xc3\xa4\"]",
	       "union: distinct, sorted by bytes");
	is_str(call(st, ts, "difference", "{\"items\":[\"a\",\"b\",\"a\",\"c\"],\"exclude\":[\"b\",\"z\"]}", &b),
	       "[\"a\",\"c\"]", "difference");
	is_str(call(st, ts, "difference", "{\"exclude\":[],\"items\":[]}", &b), "[]", "difference: key order is free");

	is_int(call_rc(st, ts, "get_film_directr", "{\"film\":\"Alien\"}", msg, sizeof(msg)), LING_EUSAGE, "unknown tool: LING_EUSAGE");
	is_str(msg, "unknown tool 'get_film_directr'", "unknown tool: message");
	is_int(call_rc(st, ts, "get_film_director", "{\"film\":\"Alien\"", msg, sizeof(msg)), LING_EDATA, "not JSON: LING_EDATA");
	is_int(call_rc(st, ts, "get_film_director", "[\"Alien\"]", msg, sizeof(msg)), LING_EDATA, "an array: LING_EDATA");
	is_str(msg, "get_film_director: arguments must be a JSON object", "an array: message");
	is_int(call_rc(st, ts, "get_film_director", "{}", msg, sizeof(msg)), LING_EDATA, "missing argument");
	is_str(msg, "get_film_director: missing argument 'film'", "missing argument: message");
	is_int(call_rc(st, ts, "get_film_director", "{\"film\":\"Alien\",\"year\":1979}", msg, sizeof(msg)), LING_EDATA,
	       "extra argument");
	is_str(msg, "get_film_director: unexpected argument 'year'", "extra argument: message");
	is_int(call_rc(st, ts, "get_film_director", "{\"film\":[\"Alien\"]}", msg, sizeof(msg)), LING_EDATA, "wrong type");
	is_str(msg, "get_film_director: argument 'film' must be a string", "wrong type: message");
	is_int(call_rc(st, ts, "get_film_director", "{\"film\":\"Alien\",\"film\":\"Heat\"}", msg, sizeof(msg)), LING_EDATA,
	       "a repeated key");
	is_int(call_rc(st, ts, "union", "{\"sets\":[[\"a\"]]}", msg, sizeof(msg)), LING_EDATA, "union of one set");
	is_int(call_rc(st, ts, "union", "{\"sets\":[[\"a\"],\"b\"]}", msg, sizeof(msg)), LING_EDATA, "a set that is not an array");
	is_int(call_rc(st, ts, "union", "{\"sets\":[[\"a\"],[1]]}", msg, sizeof(msg)), LING_EDATA, "a name that is not a string");
	is_int(call_rc(st, ts, "difference", "{\"items\":[\"a\"]}", msg, sizeof(msg)), LING_EDATA, "difference without exclude");
	is_int(call_rc(st, ts, "search_entities", "{\"text\":\"x\"}", msg, sizeof(msg)), LING_EDATA, "search: wrong key");

	de = build(st, 1, "de");
	if (de) {
		is_str(call(st, de, "find_films_by_director", "{\"director\":\"Ridley Scott\"}", &b),
		       "[\"Alien \xe2\x80\x93 Das unheimliche Wesen\",\"Blade Runner\"]", "lang de: German names where there are");
		is_str(call(st, de, "get_film_director", "{\"film\":\"Alien\"}", &b), "[]",
		       "lang de: \"Alien\" names only the other film now");
		ok(!strcmp(kg_toolset_find(de, "get_film_director")->schema, kg_toolset_find(ts, "get_film_director")->schema),
		   "lang: the tool vocabulary stays English");
	}
	kg_toolset_free(de);
	kg_toolset_free(ts);
	ling_buf_release(&b);
}

static const char fb_ttl[] =
	"@prefix fb: <http://rdf.freebase.com/ns/> .\n"
	"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
	"fb:m.1 fb:people.person.place_of_birth fb:m.2 ; rdfs:label \"Eva\"@en .\n"
	"fb:m.3 fb:film.actor.film..film.performance.film fb:m.4 .\n"
	"fb:m.3 fb:award.award_nominee.award_nominations..award.award_nomination.award fb:m.5 .\n"
	"fb:m.3 fb:award.award_nominee.award_nominations..award.award_nomination.nominated_for fb:m.4 .\n"
	"fb:m.4 fb:film.film.directed_by fb:m.3 .\n"
	"fb:m.4 fb:film.film.release_date_s..film.film_regional_release_date.film_release_region fb:m.6 .\n"
	"fb:m.6 fb:location.location.contains fb:m.2 .\n"
	"fb:m.3 fb:influence.influence_node.influenced_by fb:m.1 .\n"
	"fb:m.7 fb:soccer.football_team.current_roster..sports.sports_team_roster.position fb:m.8 .\n"
	"fb:m.7 fb:soccer.football_team.current_roster..soccer.football_roster_position.position fb:m.8 .\n"
	"fb:m.9 fb:music.genre.artists fb:m.3 .\n";

static void test_freebase(struct kg_store *st)
{
	static const char *const names[][3] = {
		{ "get_person_place_of_birth", "find_people_by_place_of_birth", "place_of_birth" },
		{ "get_actor_film", "find_actors_by_film", "film" },
		{ "get_award_nominee_award_nominations", "find_award_nominees_by_award_nominations", "award_nomination" },
		{ "get_award_nominee_nominated_for", "find_award_nominees_nominated_for", "entity" },
		{ "get_film_director", "find_films_by_director", "director" },
		{ "get_film_release_region", "find_films_by_release_region", "release_region" },
		{ "get_location_contains", "find_locations_that_contain", "entity" },
		{ "get_influence_node_influenced_by", "find_influence_nodes_influenced_by", "entity" },
		{ "get_genre_artists", "find_genres_by_artists", "artist" },
		{ "get_football_team_current_roster_sports_team_roster_position",
		  "find_by_current_roster_sports_team_roster_position", "position" },
		{ "get_football_team_current_roster_football_roster_position",
		  "find_football_teams_by_current_roster_football_roster_position", "position" },
	};
	struct kg_toolset *ts = build(st, 1, "en"), *again;
	struct ling_buf b = LING_BUF_INIT;
	size_t i;

	if (!ts)
		return;
	check_catalogue_invariants(ts, "freebase");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct kg_tool *f = tool(ts, names[i][0]);

		ok(f && f->kind == KG_TOOL_FORWARD && !strcmp(ts->tools[f->twin].name, names[i][1]) &&
		   !strcmp(ts->tools[f->twin].param, names[i][2]),
		   "freebase: %s / %s(%s)", names[i][0], names[i][1], names[i][2]);
	}
	is_str(kg_toolset_find(ts, "get_person_place_of_birth")->description, "Returns the place of birth of a person.",
	       "freebase: forward description");
	is_str(kg_toolset_find(ts, "find_people_by_place_of_birth")->description,
	       "Returns the people whose place of birth is the given place.", "freebase: inverse description");
	is_str(kg_toolset_find(ts, "find_award_nominees_nominated_for")->description,
	       "Returns the award nominees nominated for the given entity.", "freebase: a relation ending in a preposition");
	is_str(kg_toolset_find(ts, "find_locations_that_contain")->description,
	       "Returns the locations that contain the given entity.", "freebase: a verb");
	is_str(kg_toolset_find(ts, "find_genres_by_artists")->description,
	       "Returns the genres whose artists include the given artist.", "freebase: a plural relation");
	is_int(kg_toolset_find(ts, "get_location_contains")->form, KG_PHRASE_VERB, "form: verb");
	is_int(kg_toolset_find(ts, "get_award_nominee_nominated_for")->form, KG_PHRASE_PREP, "form: preposition");
	is_str(call(st, ts, "get_person_place_of_birth", "{\"person\":\"Eva\"}", &b), "[\"<http://rdf.freebase.com/ns/m.2>\"]",
	       "freebase: an unlabelled object");
	again = build(st, 1, "en");
	if (again) {
		int same = again->ntools == ts->ntools;

		for (i = 0; same && i < ts->ntools; i++)
			same = !strcmp(ts->tools[i].schema, again->tools[i].schema);
		ok(same, "the catalogue is a function of the store");
	}
	kg_toolset_free(again);
	kg_toolset_free(ts);
	ling_buf_release(&b);
}

/* kg_value_canonical's text and return value, as "text" or "text (as written)". */
static const char *canon(enum kg_value_type t, const char *lex, struct ling_buf *b)
{
	int keyed;

	ling_buf_reset(b);
	keyed = kg_value_canonical(t, lex, strlen(lex), b);
	if (!keyed)
		ling_buf_adds(b, " (as written)");
	return b->data ? b->data : "";
}

/* kg_value_of_arg's value, or "(refused)". */
static const char *of_arg(enum kg_value_type t, int is_string, const char *s, struct ling_buf *b)
{
	ling_buf_reset(b);
	if (kg_value_of_arg(t, is_string, s, strlen(s), b))
		ling_buf_adds(b, "(refused)");
	return b->data ? b->data : "";
}

static void test_values(void)
{
	static const struct {
		enum kg_value_type t;
		const char *lex, *want;
	} cases[] = {
		{ KG_VALUE_INTEGER, "1979", "1979" },
		{ KG_VALUE_INTEGER, "+0075", "75" },
		{ KG_VALUE_INTEGER, "-0", "0" },
		{ KG_VALUE_INTEGER, "-007", "-7" },
		{ KG_VALUE_INTEGER, "9223372036854775807", "9223372036854775807" },
		{ KG_VALUE_INTEGER, "-9223372036854775808", "-9223372036854775808" },
		{ KG_VALUE_INTEGER, "9223372036854775808", "9223372036854775808 (as written)" },
		{ KG_VALUE_INTEGER, "1.5", "1.5 (as written)" },
		{ KG_VALUE_INTEGER, "12a", "12a (as written)" },
		{ KG_VALUE_INTEGER, "", " (as written)" },
		{ KG_VALUE_INTEGER, "+", "+ (as written)" },
		{ KG_VALUE_YEAR, "1979", "1979" },
		{ KG_VALUE_YEAR, "1979Z", "1979" },
		{ KG_VALUE_YEAR, "2000+05:00", "2000" },
		{ KG_VALUE_YEAR, "-0044", "-44" },
		{ KG_VALUE_YEAR, "79", "79" },
		{ KG_VALUE_YEAR, "79Z", "79Z (as written)" },
		{ KG_VALUE_YEAR, "MCMLXXIX", "MCMLXXIX (as written)" },
		{ KG_VALUE_NUMBER, "1.80", "1.8" },
		{ KG_VALUE_NUMBER, "3.0", "3" },
		{ KG_VALUE_NUMBER, "-0.0", "0" },
		{ KG_VALUE_NUMBER, "0.1", "0.1" },
		{ KG_VALUE_NUMBER, ".5", "0.5" },
		{ KG_VALUE_NUMBER, "5.", "5" },
		{ KG_VALUE_NUMBER, "+1E3", "1000" },
		{ KG_VALUE_NUMBER, "0.0001", "0.0001" },
		{ KG_VALUE_NUMBER, "1.5e-5", "1.5e-05" },
		{ KG_VALUE_NUMBER, "1e16", "1e+16" },
		{ KG_VALUE_NUMBER, "1234567890123456", "1234567890123456" },
		{ KG_VALUE_NUMBER, "12345678901234567890", "1.2345678901234567e+19" },
		{ KG_VALUE_NUMBER, "1e400", "1e400 (as written)" },
		{ KG_VALUE_NUMBER, "INF", "INF (as written)" },
		{ KG_VALUE_NUMBER, "NaN", "NaN (as written)" },
		{ KG_VALUE_NUMBER, "1e", "1e (as written)" },
		{ KG_VALUE_NUMBER, "0x10", "0x10 (as written)" },
		{ KG_VALUE_DATE, "1942-11-17", "1942-11-17" },
		{ KG_VALUE_DATE, "1942-11-17Z", "1942-11-17" },
		{ KG_VALUE_DATE, "1942-11-17-05:00", "1942-11-17" },
		{ KG_VALUE_DATE, "2000-02-29", "2000-02-29" },
		{ KG_VALUE_DATE, "1900-02-29", "1900-02-29 (as written)" },
		{ KG_VALUE_DATE, "1999-13-01", "1999-13-01 (as written)" },
		{ KG_VALUE_DATE, "0000-01-01", "0000-01-01 (as written)" },
		{ KG_VALUE_DATE, "1999-1-1", "1999-1-1 (as written)" },
		{ KG_VALUE_TEXT, "The Big Apple", "The Big Apple" },
		{ KG_VALUE_TEXT, "", "" },
	};
	struct ling_buf b = LING_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(canon(cases[i].t, cases[i].lex, &b), cases[i].want, "canonical %s \"%s\"",
		       kg_value_type_name(cases[i].t), cases[i].lex);
	is_str(of_arg(KG_VALUE_INTEGER, 0, "1979", &b), "1979", "argument: a JSON integer");
	is_str(of_arg(KG_VALUE_INTEGER, 0, "-5", &b), "-5", "argument: a negative integer");
	is_str(of_arg(KG_VALUE_INTEGER, 0, "1.0", &b), "(refused)", "argument: a real is no integer");
	is_str(of_arg(KG_VALUE_INTEGER, 1, "1979", &b), "(refused)", "argument: a string is no integer");
	is_str(of_arg(KG_VALUE_YEAR, 0, "1999", &b), "1999", "argument: a year is an integer");
	is_str(of_arg(KG_VALUE_NUMBER, 0, "1.80", &b), "1.8", "argument: a number, canonical");
	is_str(of_arg(KG_VALUE_NUMBER, 0, "3", &b), "3", "argument: an integer is a number");
	is_str(of_arg(KG_VALUE_NUMBER, 0, "1e+16", &b), "1e+16", "argument: a number with an exponent");
	is_str(of_arg(KG_VALUE_NUMBER, 1, "3", &b), "(refused)", "argument: a string is no number");
	is_str(of_arg(KG_VALUE_DATE, 1, "2000-02-29", &b), "2000-02-29", "argument: a date");
	is_str(of_arg(KG_VALUE_DATE, 1, "2000-02-30", &b), "(refused)", "argument: no such day");
	is_str(of_arg(KG_VALUE_DATE, 1, "2000-02-29Z", &b), "(refused)", "argument: a date has no timezone");
	is_str(of_arg(KG_VALUE_TEXT, 1, "x y", &b), "x y", "argument: text");
	is_str(of_arg(KG_VALUE_TEXT, 0, "5", &b), "(refused)", "argument: a number is no text");
	is_str(of_arg(KG_VALUE_ENTITY, 1, "Alien", &b), "(refused)", "argument: entities are not values");
	ok(kg_value_is_canonical(KG_VALUE_NUMBER, "1.8", 3) && !kg_value_is_canonical(KG_VALUE_NUMBER, "1.80", 4) &&
	   !kg_value_is_canonical(KG_VALUE_INTEGER, "075", 3) && !kg_value_is_canonical(KG_VALUE_INTEGER, "abc", 3) &&
	   !kg_value_is_canonical(KG_VALUE_DATE, "1942-11-17Z", 11) && kg_value_is_canonical(KG_VALUE_TEXT, "x", 1),
	   "is_canonical: a value is canonical when it is its own canonical form");
	is_int(kg_value_type_of("http://www.w3.org/2001/XMLSchema#nonNegativeInteger", 51), KG_VALUE_INTEGER,
	       "type of xsd:nonNegativeInteger");
	is_int(kg_value_type_of("http://www.w3.org/2001/XMLSchema#double", 39), KG_VALUE_NUMBER, "type of xsd:double");
	is_int(kg_value_type_of("http://www.w3.org/2001/XMLSchema#date", 37), KG_VALUE_DATE, "type of xsd:date");
	is_int(kg_value_type_of("http://www.w3.org/2001/XMLSchema#gYear", 38), KG_VALUE_YEAR, "type of xsd:gYear");
	is_int(kg_value_type_of("http://www.w3.org/2001/XMLSchema#dateTime", 41), KG_VALUE_TEXT, "type of xsd:dateTime");
	is_int(kg_value_type_of("http://dbpedia.org/datatype/second", 34), KG_VALUE_TEXT, "type of another datatype");
	is_int(kg_value_type_of(NULL, 0), KG_VALUE_TEXT, "type of a plain or language string");
	ling_buf_release(&b);
}

static const char literals_ttl[] =
	"@prefix ex: <http://ex.org/> .\n"
	"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
	"@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
	"ex:City rdfs:label \"city\"@en .\n"
	"ex:pop rdfs:label \"population\"@en ; rdfs:domain ex:City ; rdfs:range xsd:integer .\n"
	"ex:area rdfs:domain ex:City . ex:motto rdfs:domain ex:City . ex:founded rdfs:domain ex:City .\n"
	"ex:a rdfs:label \"Aville\" ; ex:pop \"+0075\"^^xsd:integer ; ex:area \"1.50\"^^xsd:decimal ;\n"
	"  ex:motto \"Ever upward\"@en ; ex:founded \"1850-01-02\"^^xsd:date ; ex:mixed ex:x ; ex:bio \"%s\" .\n"
	"ex:b rdfs:label \"Btown\" ; ex:pop 75 ; ex:area 2 ; ex:motto \"Onward\" ; ex:founded \"1850-01-02Z\"^^xsd:date ;\n"
	"  ex:mixed \"m\" ; ex:bio \"%s\" .\n"
	"ex:c rdfs:label \"Cburg\" ; ex:pop 10, ex:x ; ex:area 3 ; ex:motto \"Onward\"@fr ; ex:founded \"1901-05-06\"^^xsd:date ;\n"
	"  ex:mixed ex:y ; ex:bio \"%s\" .\n"
	"ex:d rdfs:label \"Dham\" ; ex:pop 12 ; ex:area 4 ; ex:motto \"Up\" ; ex:founded \"1901-05-06\"^^xsd:date ; ex:mixed \"n\" .\n"
	"ex:e rdfs:label \"Eton\" ; ex:pop 13 .\n"
	"ex:x rdfs:label \"X\" . ex:y rdfs:label \"Y\" .\n";

static void test_literal_tools(void)
{
	char long_text[120], turtle[4096];
	struct kg_toolset *ts;
	struct kg_store *st;
	struct ling_buf b = LING_BUF_INIT;
	const struct kg_tool *t;
	char msg[512];

	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	snprintf(turtle, sizeof(turtle), literals_ttl, long_text, long_text, long_text);
	if (!(st = make_store("literals", turtle)))
		return;
	if (!(ts = build(st, 3, "en"))) {
		kg_store_close(st);
		return;
	}
	check_catalogue_invariants(ts, "literals");
	t = tool(ts, "find_cities_by_population");
	ok(t && t->kind == KG_TOOL_INVERSE && t->value == KG_VALUE_INTEGER,
	   "population: 5 of 6 objects are integers, an integer relation");
	if (t) {
		is_str(t->parameters,
		       "{\"type\":\"object\",\"properties\":{\"population\":{\"type\":\"integer\",\"description\":"
		       "\"The population, an integer.\"}},\"required\":[\"population\"],\"additionalProperties\":false}",
		       "an integer parameter");
		is_str(t->description, "Returns the cities whose population is the given number.",
		       "inverse description of a literal relation");
		is_str(t->object_noun, "population", "object noun: the phrase's head noun, not xsd:integer");
	}
	t = tool(ts, "find_cities_by_area");
	ok(t && t->value == KG_VALUE_NUMBER, "area: integers and a decimal, a number relation");
	if (t)
		is_str(t->parameters,
		       "{\"type\":\"object\",\"properties\":{\"area\":{\"type\":\"number\",\"description\":"
		       "\"The area, a number.\"}},\"required\":[\"area\"],\"additionalProperties\":false}",
		       "a number parameter");
	t = tool(ts, "find_cities_by_founded");
	ok(t && t->value == KG_VALUE_DATE, "founded: a date relation");
	if (t)
		is_str(t->parameters,
		       "{\"type\":\"object\",\"properties\":{\"founded\":{\"type\":\"string\",\"format\":\"date\","
		       "\"description\":\"The founded, a date as YYYY-MM-DD.\"}},\"required\":[\"founded\"],"
		       "\"additionalProperties\":false}",
		       "a date parameter: a string with format date");
	t = tool(ts, "find_cities_by_motto");
	ok(t && t->value == KG_VALUE_TEXT && strstr(t->parameters, "\"type\":\"string\""), "motto: a text relation");
	ok(!kg_toolset_find(ts, "get_mixed") && !kg_toolset_find(ts, "get_bio"),
	   "no tools for half literal, half entity objects, nor for long texts");

	is_str(call(st, ts, "get_city_population", "{\"city\":\"Aville\"}", &b), "[\"75\"]",
	       "forward: the canonical value of \"+0075\"");
	is_str(call(st, ts, "get_city_population", "{\"city\":\"Cburg\"}", &b), "[\"10\"]",
	       "forward: a literal relation's IRI objects are left out");
	is_str(call(st, ts, "find_cities_by_population", "{\"population\":75}", &b), "[\"Aville\",\"Btown\"]",
	       "inverse: 75 is \"+0075\" and \"75\"");
	is_str(call(st, ts, "find_cities_by_population", "{\"population\":999}", &b), "[]",
	       "inverse: a value no literal has is []");
	is_int(call_rc(st, ts, "find_cities_by_population", "{\"population\":75.0}", msg, sizeof(msg)), LING_EDATA,
	       "inverse: a real for an integer");
	is_str(msg, "find_cities_by_population: argument 'population' must be an integer", "... says why");
	is_int(call_rc(st, ts, "find_cities_by_population", "{\"population\":\"75\"}", msg, sizeof(msg)), LING_EDATA,
	       "inverse: a string for an integer");
	is_str(call(st, ts, "get_city_area", "{\"city\":\"Aville\"}", &b), "[\"1.5\"]", "forward: \"1.50\" is 1.5");
	is_str(call(st, ts, "find_cities_by_area", "{\"area\":1.5}", &b), "[\"Aville\"]", "inverse: a real");
	is_str(call(st, ts, "find_cities_by_area", "{\"area\":2}", &b), "[\"Btown\"]", "inverse: an integer is a number");
	is_str(call(st, ts, "find_cities_by_area", "{\"area\":2.0}", &b), "[\"Btown\"]", "inverse: 2.0 is 2");
	is_str(call(st, ts, "get_city_founded", "{\"city\":\"Btown\"}", &b), "[\"1850-01-02\"]",
	       "forward: a date without its timezone");
	is_str(call(st, ts, "find_cities_by_founded", "{\"founded\":\"1850-01-02\"}", &b), "[\"Aville\",\"Btown\"]",
	       "inverse: a date");
	is_int(call_rc(st, ts, "find_cities_by_founded", "{\"founded\":\"1850-1-2\"}", msg, sizeof(msg)), LING_EDATA,
	       "inverse: not a date");
	is_str(msg, "find_cities_by_founded: argument 'founded' must be a date as YYYY-MM-DD", "... says why");
	is_str(call(st, ts, "find_cities_by_motto", "{\"motto\":\"Onward\"}", &b), "[\"Btown\",\"Cburg\"]",
	       "inverse: text in any language");
	is_str(call(st, ts, "find_cities_by_motto", "{\"motto\":\"onward\"}", &b), "[]", "inverse: text is exact");
	is_int(call_rc(st, ts, "find_cities_by_motto", "{\"motto\":5}", msg, sizeof(msg)), LING_EDATA,
	       "inverse: a number for text");
	is_str(call(st, ts, "intersection", "{\"sets\":[[\"75\",\"10\"],[\"10\"]]}", &b), "[\"10\"]",
	       "values go through the set tools as strings");
	kg_toolset_free(ts);
	kg_store_close(st);
	ling_buf_release(&b);
}

/* One English noun form, as a string to compare. */
static const char *word_form(int plural, const char *w)
{
	static struct ling_buf b = LING_BUF_INIT;

	ling_buf_reset(&b);
	if (plural)
		kg_words_plural(w, strlen(w), &b);
	else
		kg_words_singular(w, strlen(w), &b);
	ling_buf_addc(&b, '\0');
	return b.data;
}

static void test_words(void)
{
	static const char *const pairs[][2] = {
		{ "film", "films" },	   { "category", "categories" }, { "day", "days" },	   { "box", "boxes" },
		{ "church", "churches" }, { "dish", "dishes" },	      { "person", "people" },  { "child", "children" },
		{ "woman", "women" },	   { "medium", "media" },	      { "genus", "genera" },   { "series", "series" },
		{ "class", "classes" },  
	};
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		is_str(word_form(1, pairs[i][0]), pairs[i][1], "plural of %s", pairs[i][0]);
		is_str(word_form(0, pairs[i][1]), pairs[i][0], "singular of %s", pairs[i][1]);
	}
	is_str(word_form(1, "people"), "people", "an irregular plural stays plural");
	is_str(word_form(0, "status"), "status", "-us is not a plural");
	is_str(word_form(0, "news"), "news", "news is one");
	is_str(word_form(1, ""), "", "nothing stays nothing");
	is_str(kg_words_article("actor"), "an", "an actor");
	is_str(kg_words_article("union"), "a", "a union");
	is_str(kg_words_article("film"), "a", "a film");
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	struct kg_store *st;

	snprintf(tmpdir, sizeof(tmpdir), "%s/ling-test-kg-tools.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	if ((st = make_store("films", films_ttl))) {
		test_names(st);
		test_catalogue(st);
		test_calls(st);
		kg_store_close(st);
	}
	if ((st = make_store("fb", fb_ttl))) {
		test_freebase(st);
		kg_store_close(st);
	}
	test_words();
	test_values();
	test_literal_tools();
	fixture_remove_tree(tmpdir);
	return done_testing();
}
