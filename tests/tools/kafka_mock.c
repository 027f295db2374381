/*
 * kafka_mock: a Kafka-protocol cluster on loopback for the tests, librdkafka's
 * mock cluster (rdkafka_mock.h) in a process of its own.
 *
 *	kafka_mock [--brokers N] TOPIC:PARTITIONS...
 *
 * Creates the topics, prints the bootstrap servers ("127.0.0.1:PORT,...")
 * on a line of stdout, and runs until SIGTERM or SIGINT (or "quit").
 * Brokers go down and up by commands on stdin, one a line, each answered
 * "ok" or "error: why" on stdout:
 *	down ID | up ID       one broker (IDs 1..N) refuses and drops connections, or serves again
 *	down all | up all     every broker
 *	leader TOPIC PARTITION ID   moves a partition's leader
 *	quit
 * and by signals: SIGUSR1 takes every broker down, SIGUSR2 brings them up.
 * The data stays in the process across downs and ups, as a restarted
 * broker keeps its log. Exit status: 0 after SIGTERM, SIGINT or quit; 2
 * for a usage error; 1 when the cluster cannot be made.
 *
 * A test tool, built like the others in tests/tools: it talks to librdkafka directly
 * because the mock cluster is no part of ling.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stopping, want_down, want_up;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_down = 1;
	else if (sig == SIGUSR2)
		want_up = 1;
	else
		stopping = 1;
}

/* s as a number in 1..max, or 0 when it is not one. */
static int number(const char *s, int max)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end != s && !*end && v >= 1 && v <= max ? (int)v : 0;
}

static int set_all(rd_kafka_mock_cluster_t *mc, int nbrokers, int up)
{
	int id, bad = 0;

	for (id = 1; id <= nbrokers; id++)
		bad |= (up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id)) != 0;
	return bad ? -1 : 0;
}

/* Runs one command line. @return 1 for quit, 0 otherwise (the answer printed). */
static int command(rd_kafka_mock_cluster_t *mc, int nbrokers, char *line)
{
	char what[16], arg[256], topic[256];
	int id, partition, rc = -1, n;

	n = sscanf(line, "%15s %255s", what, arg);
	if (n >= 1 && !strcmp(what, "quit"))
		return 1;
	if (n == 2 && (!strcmp(what, "down") || !strcmp(what, "up"))) {
		int up = !strcmp(what, "up");

		if (!strcmp(arg, "all"))
			rc = set_all(mc, nbrokers, up);
		else if ((id = number(arg, nbrokers)))
			rc = (up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id)) ? -1 : 0;
	} else if (n == 2 && !strcmp(what, "leader") && sscanf(line, "%*s %255s %d %d", topic, &partition, &id) == 3) {
		rc = rd_kafka_mock_partition_set_leader(mc, topic, partition, id) ? -1 : 0;
	}
	printf(rc ? "error: %s" : "ok\n", rc ? "unknown command or broker\n" : "");
	fflush(stdout);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: kafka_mock [--brokers N] TOPIC:PARTITIONS...\n");
	return 2;
}

int main(int argc, char **argv)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	struct sigaction sa;
	char why[512], line[1024];
	int nbrokers = 1, i = 1, stdin_open = 1;
	size_t have = 0;
	rd_kafka_t *rk;

	if (argc > 2 && !strcmp(argv[1], "--brokers")) {
		nbrokers = number(argv[2], 16);
		i = 3;
	}
	if (nbrokers < 1 || i >= argc)
		return usage();
	rd_kafka_conf_set(conf, "log_level", "0", why, sizeof(why));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (!rk) {
		fprintf(stderr, "kafka_mock: %s\n", why);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, nbrokers);
	if (!mc) {
		fprintf(stderr, "kafka_mock: cannot make the mock cluster\n");
		return 1;
	}
	for (; i < argc; i++) {
		char *colon = strrchr(argv[i], ':');
		int parts = colon ? number(colon + 1, 1024) : 0;

		if (!colon || parts < 1)
			return usage();
		*colon = '\0';
		if (rd_kafka_mock_topic_create(mc, argv[i], parts, nbrokers < 3 ? nbrokers : 3)) {
			fprintf(stderr, "kafka_mock: cannot create topic %s\n", argv[i]);
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (!stopping) {
		struct pollfd pfd = { 0, POLLIN, 0 };

		if (want_down)
			want_down = 0, set_all(mc, nbrokers, 0);
		if (want_up)
			want_up = 0, set_all(mc, nbrokers, 1);
		if (!stdin_open || poll(&pfd, 1, 100) <= 0) {
			if (!stdin_open)
				usleep(100000);
			continue;
		}
		ssize_t n = read(0, line + have, sizeof(line) - 1 - have);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			stdin_open = 0; /* no more commands: run until a signal */
			continue;
		}
		have += (size_t)n;
		line[have] = '\0';
		char *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (command(mc, nbrokers, line))
				stopping = 1;
			have -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, have + 1);
		}
		if (have == sizeof(line) - 1)
			have = 0; /* a line too long for any command */
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
