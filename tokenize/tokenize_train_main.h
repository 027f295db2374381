/* tokenize_train_main: the `tokenize train` subcommand, called by tokenize_main.c. */
#ifndef TOKENIZE_TRAIN_MAIN_H
#define TOKENIZE_TRAIN_MAIN_H

/* Runs `tokenize train` with argv[0] = "train"; closed is what ling_stdio_init() returned. @return the exit status. */
int tokenize_train_main(int argc, char **argv, int closed);

#endif
