#!/usr/bin/env python3
"""check-samples.py: an independent checker of kg2samples output.

Usage: check-samples.py --kg-query PATH/kg-query --store DIR [--dump NQUADS]
                        [--min-facts N] [--show N] samples.jsonl...

It shares no code with the generator: it reads the contract
(doc/kg2samples-format.md) and checks every sample against it:

  (a) the shape: keys and their order, types, roles, message order, call ids,
      tool messages after their calls, categories and patterns; content a
      string on calling turns (never null), and no tool definitions in the
      system prompt (only in "tools");
  (b) each call's arguments against the offered tool's `parameters` (a small
      JSON Schema validator for the subset the tools use: types, including
      integer and number for literal values, the "date" format, enums,
      minimum and maximum, required and optional keys), a range's "to" no
      less than its start, and that every offered tool is in the store's
      catalogue (`kg-query --tools`), byte for byte, and every called tool
      is offered;
  (c) every call (and each meta.calls of instruction samples) replayed in one
      `kg-query --calls -` process per language: the result must equal the
      recorded tool message (or meta.calls result) byte for byte; besides,
      each recorded result must be in the order its "sort" asks for (by
      bytes without it or with "alphabetical", reversed with
      "reverse_alphabetical", values by value with "ascending" and
      "descending") and hold at most "limit" names;
  (d) `answer`: the union of the results of the last assistant turn that calls
      tools, sorted by bytes; [] and no tool calls for irrelevance; for
      instruction samples, it holds the last call's result and only names the
      calls returned; [] for describe;
  (e) with at most 10 answers, each answer name appears in the final
      assistant message (not for count and describe, whose text need not
      list names);
  (f) with --dump (the output of `kg-query --dump`), every meta.evidence
      triple is in the store;
  (g) no degenerate question: the names the question mentions are the
      string values of the required parameters of the calls (not of
      search_entities) that no earlier call returned and that a user message
      spells (ASCII case aside, as whole words); no answer is such a name or a run of whole words inside
      one, and no call returns such a name after a call took it (the path
      comes back to the anchor). Not for describe and irrelevance, which
      answer no question with names.

Prints the samples per category, the first failures (sample id and reason)
and "N passed, N failed"; exits 1 when a sample fails, 2 on a usage error.
Python 3 standard library only.
"""
import argparse
import datetime
import json
import re
import subprocess
import sys

PATTERNS = ["1p", "2p", "3p", "2i", "3i", "ip", "pi", "2u", "up", "2in", "3in", "inp", "pin", "pni"]
TOOL_USE = set(PATTERNS) | {"parallel", "multiple", "irrelevance", "multi_turn"}
INSTRUCTION = {"fact", "list", "count", "compare", "describe"}
TOP_KEYS = ["id", "kind", "category", "pattern", "tools", "messages", "answer", "meta"]
META_KEYS = ["seed", "index", "store", "lang", "evidence"]
ID_RE = re.compile(r"^kg:([a-z0-9_]+):[0-9a-f]{16}$")
TOOL_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CALL_ID_RE = re.compile(r"^call_([1-9][0-9]*)$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class Fail(Exception):
    """A sample breaks the contract; the message says how."""


def strict_object(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key in an object")
    return dict(pairs)  # dicts keep insertion order


def no_constant(name):
    raise ValueError("%s is not JSON" % name)


def loads(text):
    return json.loads(text, object_pairs_hook=strict_object, parse_constant=no_constant)


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def byte_key(s):
    return s.encode("utf-8")


def expect(cond, fmt, *args):
    if not cond:
        raise Fail(fmt % args if args else fmt)


def keys_are(obj, keys, what):
    expect(isinstance(obj, dict), "%s is not an object", what)
    expect(list(obj.keys()) == keys, "%s has keys %s, expected %s in that order", what, list(obj.keys()), keys)


def is_str(v):
    return isinstance(v, str)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


# ---- (b) a JSON Schema validator for the subset the tools use ----

def is_full_date(v):
    """RFC 3339 full-date, the JSON Schema "date" format: YYYY-MM-DD, a real day."""
    if not is_str(v) or not DATE_RE.match(v):
        return False
    try:
        datetime.date(int(v[:4]), int(v[5:7]), int(v[8:]))
    except ValueError:
        return False
    return True


FORMATS = {"date": is_full_date}


def schema_errors(value, schema, path="arguments"):
    """The first way value breaks schema, or None."""
    if not isinstance(schema, dict):
        return "%s: the schema is not an object" % path
    known = {"type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
             "description", "enum", "format", "minimum", "maximum"}
    unknown = set(schema) - known
    if unknown:
        return "%s: the schema uses %s, which this checker does not know" % (path, sorted(unknown))
    t = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": is_str,
        "integer": is_int,
        "number": lambda v: (is_int(v) or isinstance(v, float)),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    if t is not None:
        if t not in checks:
            return "%s: unknown type %r in the schema" % (path, t)
        if not checks[t](value):
            return "%s must be of type %s" % (path, t)
    if "enum" in schema and value not in schema["enum"]:
        return "%s is not one of %s" % (path, schema["enum"][:5])
    if (is_int(value) or isinstance(value, float)) and "minimum" in schema and value < schema["minimum"]:
        return "%s is less than the minimum %s" % (path, schema["minimum"])
    if (is_int(value) or isinstance(value, float)) and "maximum" in schema and value > schema["maximum"]:
        return "%s is more than the maximum %s" % (path, schema["maximum"])
    if "format" in schema:
        if schema["format"] not in FORMATS:
            return "%s: unknown format %r in the schema" % (path, schema["format"])
        if is_str(value) and not FORMATS[schema["format"]](value):
            return "%s is not a %s" % (path, schema["format"])
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                return "%s: missing required %r" % (path, key)
        for key, v in value.items():
            if key in props:
                e = schema_errors(v, props[key], "%s.%s" % (path, key))
                if e:
                    return e
            elif schema.get("additionalProperties") is False:
                return "%s: unexpected property %r" % (path, key)
            elif isinstance(schema.get("additionalProperties"), dict):
                e = schema_errors(v, schema["additionalProperties"], "%s.%s" % (path, key))
                if e:
                    return e
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return "%s has %d items, fewer than %d" % (path, len(value), schema["minItems"])
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return "%s has %d items, more than %d" % (path, len(value), schema["maxItems"])
        if "items" in schema:
            for i, v in enumerate(value):
                e = schema_errors(v, schema["items"], "%s[%d]" % (path, i))
                if e:
                    return e
    return None


# ---- (a) shape ----

class Call:
    """One call to replay: where it is, and what it recorded."""

    def __init__(self, sample, where, name, arguments, recorded, lang):
        self.sample, self.where, self.name = sample, where, name
        self.arguments, self.recorded, self.lang = arguments, recorded, lang


# ---- (g) degenerate questions ----

SEARCH_TOOL = "search_entities"


def fold(s):
    """UTF-8 bytes with ASCII A-Z lowercased (search_entities' spelling rule)."""
    return s.encode("utf-8").lower()  # bytes.lower() changes ASCII letters only


def word_byte(b):
    return b >= 0x80 or 48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122


def within(a, m):
    """Whether a (folded bytes) is m or a run of whole words of m."""
    if not a or len(a) > len(m):
        return False
    at = m.find(a)
    while at >= 0:
        before = at > 0 and word_byte(m[at - 1]) and word_byte(a[0])
        after = at + len(a) < len(m) and word_byte(m[at + len(a)]) and word_byte(a[-1])
        if not before and not after:
            return True
        at = m.find(a, at + 1)
    return False


def check_degenerate(sample, tools, calls):
    """(g): calls are this sample's Call objects in conversation order."""
    users = [fold(m["content"]) for m in sample["messages"] if m["role"] == "user"]
    asked, returned = set(), set()
    args_of = []
    for c in calls:
        names = []
        if c.name != SEARCH_TOOL and c.name in tools:
            params = tools[c.name]["function"]["parameters"]
            args = loads(c.arguments)
            for key in params.get("required", []):
                v = args.get(key)
                if is_str(v) and v not in returned and any(within(fold(v), u) for u in users):
                    names.append(fold(v))
                    asked.add(fold(v))
        if c.name != SEARCH_TOOL:
            returned.update(r for r in loads(c.recorded) if is_str(r))
        args_of.append(names)
    for a in sample["answer"]:
        for m in asked:
            expect(not within(fold(a), m), "degenerate: the answer %r is named in the question", a)
    taken = set()
    for c, names in zip(calls, args_of):
        if c.name == SEARCH_TOOL or c.name not in tools:
            continue
        taken.update(names)
        for r in loads(c.recorded):
            expect(not (is_str(r) and fold(r) in taken), "degenerate: %s returns %r, which the question names "
                   "and an earlier call took (the path comes back)", c.where, r)


def check_arguments(name, arguments, tools, where):
    expect(is_str(arguments), "%s: arguments is not a string", where)
    try:
        args = loads(arguments)
    except ValueError as e:
        raise Fail("%s: arguments are not JSON: %s" % (where, e))
    expect(isinstance(args, dict), "%s: arguments are not a JSON object", where)
    expect(compact(args) == arguments, "%s: arguments are not compact JSON: %s", where, arguments)
    expect(name in tools, "%s: calls %r, which is not an offered tool", where, name)
    params = tools[name]["function"]["parameters"]
    err = schema_errors(args, params)
    expect(err is None, "%s: %s: %s", where, name, err)
    if "to" in args:
        start = [args[k] for k in params.get("required", []) if k != "to"]
        expect(len(start) == 1 and value_key(start[0]) <= value_key(args["to"]),
               "%s: %s: the range ends before it starts", where, name)
    return args


def value_key(v):
    """How the tools order values: numbers by value, dates (and other strings) by bytes."""
    if is_int(v) or isinstance(v, float):
        return (0, v, b"")
    if NUMBER_RE.match(v):
        return (0, float(v), b"")
    return (1, 0, byte_key(v))


NUMBER_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


def check_order(args, names, where):
    """A result is in the order "sort" asks for, and holds at most "limit" names."""
    if "limit" in args:
        expect(len(names) <= args["limit"], "%s: %d names, more than the limit %d", where, len(names), args["limit"])
    how = args.get("sort", "alphabetical")
    if how in ("alphabetical", "reverse_alphabetical"):
        want = sorted(names, key=byte_key, reverse=how == "reverse_alphabetical")
    elif all(NUMBER_RE.match(n) for n in names) or all(is_full_date(n) for n in names):
        want = sorted(names, key=value_key, reverse=how == "descending")
    else:
        return  # values that do not all read as numbers or dates: their order is the replay's to check
    expect(names == want, "%s: the result is not in %s order", where, how)


def result_names(text, where):
    try:
        names = loads(text)
    except ValueError as e:
        raise Fail("%s: the tool result is not JSON: %s" % (where, e))
    expect(isinstance(names, list) and all(is_str(n) for n in names), "%s: the tool result is not a list of names", where)
    return names


def check_tools(sample, catalogue):
    tools = {}
    expect(isinstance(sample["tools"], list), "tools is not an array")
    for i, tool in enumerate(sample["tools"]):
        where = "tools[%d]" % i
        keys_are(tool, ["type", "function"], where)
        expect(tool["type"] == "function", "%s: type is not \"function\"", where)
        keys_are(tool["function"], ["name", "description", "parameters"], where + ".function")
        name = tool["function"]["name"]
        expect(is_str(name) and TOOL_NAME_RE.match(name), "%s: bad tool name %r", where, name)
        expect(name not in tools, "%s: tool %s offered twice", where, name)
        expect(is_str(tool["function"]["description"]) and tool["function"]["description"], "%s: no description", where)
        params = tool["function"]["parameters"]
        expect(isinstance(params, dict) and params.get("type") == "object", "%s: parameters are not an object schema", where)
        if catalogue is not None:
            expect(name in catalogue, "%s: %s is not in the store's catalogue (kg-query --tools)", where, name)
            expect(compact(tool) == catalogue[name], "%s: %s differs from the store's catalogue", where, name)
        tools[name] = tool
    return tools


def check_messages(sample, tools, lang):
    """Checks the conversation; returns (calls, turns): turns[i] is the list of (name, result) per tool-calling turn."""
    msgs = sample["messages"]
    sid = sample["id"]
    expect(isinstance(msgs, list) and len(msgs) >= 3, "messages: fewer than 3")
    keys_are(msgs[0], ["role", "content"], "messages[0]")
    expect(msgs[0]["role"] == "system" and is_str(msgs[0]["content"]) and msgs[0]["content"], "messages[0] is not a system message")
    # one place for the tool definitions: "tools", which the chat template renders
    for t in sample["tools"]:
        expect(json.dumps(t["function"]["name"]) not in msgs[0]["content"],
               "messages[0]: the system prompt lists the tool %s, which \"tools\" already carries", t["function"]["name"])
    calls, turns = [], []
    next_id, i, users = 1, 1, 0
    final = None
    while i < len(msgs):
        m = msgs[i]
        where = "messages[%d]" % i
        keys_are(m, ["role", "content"], where)
        expect(m["role"] == "user" and is_str(m["content"]) and m["content"], "%s: expected a user message", where)
        users += 1
        i += 1
        while True:
            expect(i < len(msgs), "the conversation ends without a final assistant message")
            m = msgs[i]
            where = "messages[%d]" % i
            expect(isinstance(m, dict) and m.get("role") == "assistant", "%s: expected an assistant message", where)
            if "tool_calls" not in m:
                keys_are(m, ["role", "content"], where)
                expect(is_str(m["content"]) and m["content"], "%s: the final answer has no content", where)
                final = m["content"]
                i += 1
                break
            keys_are(m, ["role", "content", "tool_calls"], where)
            # "" rather than null: chat templates (Qwen3's in transformers) read content as a string
            expect(is_str(m["content"]), "%s: content is not a string (\"\" when the turn says nothing)", where)
            expect(isinstance(m["tool_calls"], list) and m["tool_calls"], "%s: tool_calls is empty", where)
            turn = []
            for j, c in enumerate(m["tool_calls"]):
                cw = "%s.tool_calls[%d]" % (where, j)
                keys_are(c, ["id", "type", "function"], cw)
                expect(c["id"] == "call_%d" % next_id, "%s: id %r, expected call_%d", cw, c["id"], next_id)
                next_id += 1
                expect(c["type"] == "function", "%s: type is not \"function\"", cw)
                keys_are(c["function"], ["name", "arguments"], cw + ".function")
                turn.append((c, check_arguments(c["function"]["name"], c["function"]["arguments"], tools, cw)))
            i += 1
            results = []
            for c, args in turn:
                expect(i < len(msgs), "%s has no tool message", c["id"])
                t = msgs[i]
                tw = "messages[%d]" % i
                keys_are(t, ["role", "tool_call_id", "name", "content"], tw)
                expect(t["role"] == "tool", "%s: expected the tool message of %s", tw, c["id"])
                expect(t["tool_call_id"] == c["id"], "%s: tool_call_id %r, expected %s", tw, t["tool_call_id"], c["id"])
                expect(t["name"] == c["function"]["name"], "%s: name %r, expected %r", tw, t["name"], c["function"]["name"])
                expect(is_str(t["content"]), "%s: content is not a string", tw)
                calls.append(Call(sid, c["id"], c["function"]["name"], c["function"]["arguments"], t["content"], lang))
                results.append(result_names(t["content"], tw))
                check_order(args, results[-1], tw)
                i += 1
            turns.append((users, results))
    return calls, turns, users, final


def check_sample(sample, catalogue, seen_ids):
    """Checks everything but the replay; returns the calls to replay."""
    keys_are(sample, TOP_KEYS, "the sample")
    sid, kind, cat, pattern = sample["id"], sample["kind"], sample["category"], sample["pattern"]
    expect(is_str(sid) and ID_RE.match(sid), "id %r is not kg:<category>:<16 hex>", sid)
    expect(sid not in seen_ids, "id %s is used twice", sid)
    seen_ids.add(sid)
    expect(kind in ("tool_use", "instruction"), "kind %r is neither tool_use nor instruction", kind)
    expect(cat in (TOOL_USE if kind == "tool_use" else INSTRUCTION), "category %r is not a %s category", cat, kind)
    expect(ID_RE.match(sid).group(1) == cat, "id %s does not name the category %s", sid, cat)
    if cat in ("irrelevance", "describe"):
        expect(pattern is None, "pattern must be null for %s", cat)
    else:
        expect(pattern in PATTERNS, "pattern %r is not one of the 14 patterns", pattern)
    if cat in PATTERNS:
        expect(pattern == cat, "pattern %s differs from category %s", pattern, cat)

    meta = sample["meta"]
    keys_are(meta, META_KEYS + (["calls"] if kind == "instruction" else []), "meta")
    expect(is_int(meta["seed"]) and is_int(meta["index"]) and meta["index"] >= 0, "meta: seed and index must be integers")
    expect(is_str(meta["store"]) and meta["store"], "meta.store is not a string")
    expect(is_str(meta["lang"]) and meta["lang"], "meta.lang is not a string")
    ev = meta["evidence"]
    expect(isinstance(ev, list) and all(isinstance(t, list) and len(t) == 3 and all(is_str(x) for x in t) for t in ev),
           "meta.evidence is not a list of [s, p, o] strings")

    answer = sample["answer"]
    expect(isinstance(answer, list) and all(is_str(a) for a in answer), "answer is not a list of strings")
    expect(answer == sorted(set(answer), key=byte_key), "answer is not sorted by bytes without repeats")

    lang = meta["lang"]
    if kind == "instruction":
        expect(sample["tools"] == [], "an instruction sample offers tools")
        tools = catalogue_tools(catalogue)
    else:
        tools = check_tools(sample, catalogue)
        expect(tools, "a tool-use sample offers no tools")
    calls, turns, users, final = check_messages(sample, tools, lang)
    expect(users == (2 if cat == "multi_turn" else 1), "%d user turns in a %s sample", users, cat)

    if kind == "instruction":
        expect(not turns, "an instruction sample calls tools in its messages")
        mc = meta["calls"]
        expect(isinstance(mc, list), "meta.calls is not an array")
        results = []
        for j, c in enumerate(mc):
            where = "meta.calls[%d]" % j
            keys_are(c, ["name", "arguments", "result"], where)
            args = check_arguments(c["name"], c["arguments"], tools, where)
            expect(is_str(c["result"]), "%s: result is not a string", where)
            results.append(result_names(c["result"], where))
            check_order(args, results[-1], where)
            calls.append(Call(sid, where, c["name"], c["arguments"], c["result"], lang))
        if cat == "describe":
            expect(answer == [], "a describe sample has a non-empty answer")
        else:
            expect(results, "an instruction sample without meta.calls")
            every = set(n for r in results for n in r)
            expect(set(results[-1]) <= set(answer), "answer lacks names of the last call's result")
            expect(set(answer) <= every, "answer holds names no call returned: %s", sorted(set(answer) - every)[:3])
    elif cat == "irrelevance":
        expect(not turns, "an irrelevance sample calls tools")
        expect(answer == [], "an irrelevance sample has a non-empty answer")
    else:
        expect(turns, "a %s sample calls no tool", cat)
        last_user = turns[-1][0]
        expect(last_user == users, "the last question is answered without tool calls")
        gold = sorted(set(n for r in turns[-1][1] for n in r), key=byte_key)
        expect(answer == gold, "answer %s is not the union of the last turn's results %s", answer[:5], gold[:5])
        if cat == "parallel":
            expect(any(len(r) >= 2 for _, r in turns), "a parallel sample has no turn with two calls")
        if cat == "multiple":
            expect(len(tools) >= 2, "a multiple sample offers one tool")
    if cat not in ("count", "describe", "irrelevance") and len(answer) <= 10:
        for a in answer:
            expect(a in final, "answer %r is not in the final assistant message", a)
    if cat not in ("describe", "irrelevance"):
        check_degenerate(sample, tools, calls)
    return calls


def catalogue_tools(catalogue):
    if catalogue is None:
        return {}
    return {name: loads(text) for name, text in catalogue.items()}


# ---- (c) replay ----

def run_kg_query(args, stdin_text=None):
    try:
        p = subprocess.run(args, input=stdin_text, capture_output=True, text=True, encoding="utf-8")
    except OSError as e:
        sys.exit("check-samples: cannot run %s: %s" % (args[0], e))
    if p.returncode != 0:
        sys.exit("check-samples: %s failed (exit %d): %s" % (" ".join(args[:4]), p.returncode, p.stderr.strip()))
    return p.stdout


def load_catalogue(opts):
    cmd = [opts.kg_query, "--store", opts.store, "--tools"]
    if opts.min_facts:
        cmd += ["--min-facts", str(opts.min_facts)]
    catalogue = {}
    for line in run_kg_query(cmd).splitlines():
        tool = loads(line)
        catalogue[tool["function"]["name"]] = line
    return catalogue


def replay(opts, calls):
    """Runs the calls, one kg-query process per language; returns {index: failure reason}."""
    failures = {}
    by_lang = {}
    for k, c in enumerate(calls):
        by_lang.setdefault(c.lang, []).append(k)
    for lang, ks in sorted(by_lang.items()):
        cmd = [opts.kg_query, "--store", opts.store, "--lang", lang, "--calls", "-"]
        if opts.min_facts:
            cmd += ["--min-facts", str(opts.min_facts)]
        text = "".join(compact({"name": calls[k].name, "arguments": calls[k].arguments}) + "\n" for k in ks)
        out = run_kg_query(cmd, text).split("\n")
        if out and out[-1] == "":
            out.pop()
        if len(out) != len(ks):
            sys.exit("check-samples: kg-query --calls answered %d lines for %d calls" % (len(out), len(ks)))
        for k, line in zip(ks, out):
            c = calls[k]
            got = loads(line)
            if "error" in got:
                failures[k] = "%s: %s fails on the store: %s" % (c.where, c.name, got["error"])
            elif got["result"] != c.recorded:
                failures[k] = "%s: %s returns %s, the sample records %s" % (
                    c.where, c.name, got["result"][:200], c.recorded[:200])
    return failures


# ---- (f) evidence ----

NT_TERM = re.compile(r'\s*(<[^>]*>|_:[^\s]+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)')
UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def nt_plain(term):
    """An IRI without <> and with \\u escapes decoded; other terms as written."""
    if term.startswith("<"):
        return UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), term[1:-1])
    return term


def load_dump(path):
    triples = set()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            terms, pos = [], 0
            while len(terms) < 3:
                m = NT_TERM.match(line, pos)
                if not m:
                    break
                terms.append(nt_plain(m.group(1)))
                pos = m.end()
            if len(terms) == 3:
                triples.add(tuple(terms))
            elif line.strip() and not line.startswith("#"):
                sys.exit("check-samples: %s:%d: not an N-Quads line" % (path, n))
    return triples


# ---- main ----

def main():
    ap = argparse.ArgumentParser(description="Check kg2samples output against doc/kg2samples-format.md.")
    ap.add_argument("--kg-query", required=True, help="the kg-query binary")
    ap.add_argument("--store", required=True, help="the store the samples were made from")
    ap.add_argument("--dump", help="kg-query --dump output, to check meta.evidence")
    ap.add_argument("--min-facts", type=int, default=0, help="as given to kg2samples")
    ap.add_argument("--show", type=int, default=10, help="failures to print (default: 10)")
    ap.add_argument("samples", nargs="+")
    opts = ap.parse_args()

    catalogue = load_catalogue(opts)
    dump = load_dump(opts.dump) if opts.dump else None
    seen_ids = set()
    records = []  # (label, category, failure or None, [call indexes])
    calls = []
    for path in opts.samples:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                label = "%s:%d" % (path, n)
                if not line.strip():
                    records.append((label, "?", "a blank line", []))
                    continue
                try:
                    sample = loads(line)
                except ValueError as e:
                    records.append((label, "?", "not JSON: %s" % e, []))
                    continue
                cat = sample.get("category") if isinstance(sample, dict) else None
                cat = cat if isinstance(cat, str) else "?"
                if isinstance(sample, dict) and isinstance(sample.get("id"), str):
                    label = "%s (%s)" % (sample["id"], label)
                try:
                    got = check_sample(sample, catalogue, seen_ids)
                    if dump is not None:
                        for t in sample["meta"]["evidence"]:
                            expect(tuple(t) in dump, "evidence %s is not in the store", t)
                except Fail as e:
                    records.append((label, cat, str(e), []))
                    continue
                first = len(calls)
                calls.extend(got)
                records.append((label, cat, None, list(range(first, len(calls)))))

    failures = replay(opts, calls) if calls else {}
    per_cat, passed, failed, shown = {}, 0, 0, 0
    for label, cat, why, ks in records:
        if why is None:
            why = next((failures[k] for k in ks if k in failures), None)
        ok = why is None
        c = per_cat.setdefault(cat, [0, 0])
        c[0 if ok else 1] += 1
        if ok:
            passed += 1
            continue
        failed += 1
        if shown < opts.show:
            print("FAIL %s: %s" % (label, why))
            shown += 1
    for cat in sorted(per_cat):
        print("%-12s %d passed, %d failed" % (cat, per_cat[cat][0], per_cat[cat][1]))
    print("%d calls replayed" % len(calls))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
