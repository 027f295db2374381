/*
 * tokenize_main.h: the subcommands of the tokenize binary, for its mains
 * only (tokenize_main.c dispatches to them). Not a library header: the
 * library's is tokenize.h.
 */
#ifndef TOKENIZE_MAIN_H
#define TOKENIZE_MAIN_H

/* The --help text of `tokenize` and of `tokenize build`. */
extern const char tokenize_usage_text[];

/* The synopsis of encode, decode and build in usage errors. */
#define TOKENIZE_SYNOPSIS "tokenize encode|decode|build --tokenizer FILE [options] [FILE...]"

/*
 * `tokenize build` (argv[1] is "build") and `tokenize train` (argv[0] is
 * "train"); closed is what ling_stdio_init() returned. @return the exit status.
 */
int tokenize_build_main(int argc, char **argv, int closed);
int tokenize_train_main(int argc, char **argv, int closed);

#endif
