/*
 * synth_text_limit: the words of samples whose question asks for only a
 * few answers ("Just name three."), answered by one call with the tool's
 * optional "limit" (and "sort" for the last ones alphabetically): the
 * request appended to the question, and the reply that lists them without
 * claiming they are all. English, as the built-in templates are; kept apart
 * from the question and answer templates of synth_text*.c.
 */
#include "synth_internal.h"

#include "../common/banned.h"

static const char *const number_words[] = { "zero", "one", "two", "three", "four", "five" };

/* "two" .. "five", else digits. */
static void add_count(size_t n, int cap, struct ling_buf *out)
{
	if (n < sizeof(number_words) / sizeof(number_words[0])) {
		ling_buf_addc(out, (char)(cap ? number_words[n][0] - 'a' + 'A' : number_words[n][0]));
		ling_buf_adds(out, number_words[n] + 1);
	} else {
		ling_buf_addf(out, "%zu", n);
	}
}

/* Fills "{n}" in a frame. */
static void frame(const char *f, size_t n, struct ling_buf *out)
{
	const char *at;

	while ((at = strstr(f, "{n}")) || (at = strstr(f, "{N}"))) {
		ling_buf_add(out, f, (size_t)(at - f));
		add_count(n, at[1] == 'N', out);
		f = at + 3;
	}
	ling_buf_adds(out, f);
}

void synth_text_limit_ask(size_t n, int reverse, uint64_t *rng, struct ling_buf *out)
{
	static const char *const first[] = {
		"Just name {n}.", "{N} of them are enough.", "Give me only {n}.", "List at most {n}.",
		"I only need {n} of them.", "Any {n} will do.",
	};
	static const char *const last[] = {
		"Name the last {n} in alphabetical order.", "Give me the {n} that come last alphabetically.",
		"Only the last {n}, sorted by name.",
	};

	if (reverse)
		frame(last[ling_rand_below(rng, sizeof(last) / sizeof(last[0]))], n, out);
	else
		frame(first[ling_rand_below(rng, sizeof(first) / sizeof(first[0]))], n, out);
}

void synth_text_limit_answer(const char *const *names, size_t n, int reverse, uint64_t *rng, struct ling_buf *out)
{
	static const char *const first[] = {
		"Here are {n} of them: ", "{N} of them are ", "For example: ", "{N} that qualify: ",
	};
	static const char *const last[] = {
		"The last {n} in alphabetical order are ", "Sorted by name, the last {n} are ",
	};
	size_t i;

	if (reverse)
		frame(last[ling_rand_below(rng, sizeof(last) / sizeof(last[0]))], n, out);
	else
		frame(first[ling_rand_below(rng, sizeof(first) / sizeof(first[0]))], n, out);
	for (i = 0; i < n; i++) {
		if (i)
			ling_buf_adds(out, i + 1 == n ? " and " : ", ");
		ling_buf_adds(out, names[i]);
	}
	ling_buf_addc(out, '.');
}
