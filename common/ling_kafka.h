/*
 * ling_kafka: the one module that calls librdkafka. Its types stay opaque:
 * no <librdkafka/rdkafka.h> in any other file.
 *
 *	struct ling_kafka_conf *conf = ling_kafka_conf_new();
 *	ling_kafka_conf_put(conf, "bootstrap.servers", brokers, err);
 *	ling_kafka_conf_arg(conf, "security.protocol=SASL_SSL", err);   -X key=value, as kcat takes it
 *	ling_kafka_conf_file(conf, "kafka.conf", err);                   key=value lines
 *
 *	ling_kafka_consumer_new(&c, conf, topic, err);                   learns the partitions
 *	n = ling_kafka_consumer_partitions(c);
 *	ling_kafka_consumer_assign(c, next_offsets, n, err);             offsets WE stored
 *	while (...) {
 *		ling_kafka_consumer_poll(c, 1000, 500, &msgs, &nmsgs, err);
 *		... apply msgs[0..nmsgs), store msgs[i].offset + 1 per partition ...
 *		if (ling_kafka_consumer_caught_up(c)) break;             --until-idle
 *	}
 *	ling_kafka_consumer_free(c);
 *
 *	ling_kafka_producer_new(&p, conf, topic, err);                   idempotent
 *	ling_kafka_produce(p, LING_KAFKA_ANY_PARTITION, key, klen, val, vlen, err);
 *	ling_kafka_flush(p, 30000, err);                                 every message acknowledged
 *	ling_kafka_producer_free(p);
 *
 * Offsets: the consumer reads from the offsets the caller gives and never
 * commits any to Kafka (enable.auto.commit and enable.auto.offset.store are
 * forced off); the caller stores the offsets it has applied with its data,
 * so a crash at any moment resumes exactly after the last stored message.
 * An offset the broker no longer has (or does not have yet) is an error,
 * never a silent jump (auto.offset.reset=error). The group id (group.id)
 * only names the client to the brokers. Defaults that conf may override:
 * group.id=ling, fetch.wait.max.ms=100 (an idle partition is known as such
 * quickly), fetch.message.max.bytes=8388608.
 *
 * Errors: LING_EUSAGE for a bad property or config file line (with the
 * file:line), LING_EIO for the cluster (unreachable at start, unknown topic,
 * fatal errors, offsets out of range, failed deliveries). Transient broker
 * and connection errors are retried by librdkafka and not returned: a
 * consumer or producer outlives a broker restart.
 *
 * Threads: each consumer or producer belongs to one thread; a conf is only
 * read by _new.
 */
#ifndef LING_KAFKA_H
#define LING_KAFKA_H

#include "ling_err.h"

#include <stddef.h>
#include <stdint.h>

struct ling_kafka_conf;     /* client properties (librdkafka's names) */
struct ling_kafka_consumer; /* one topic, all of its partitions, offsets given by the caller */
struct ling_kafka_producer; /* one topic, idempotent */

/* ---- configuration ---- */

struct ling_kafka_conf *ling_kafka_conf_new(void);
void ling_kafka_conf_free(struct ling_kafka_conf *conf); /* NULL is fine */

/*
 * Sets property key to value (a later setting of the same key wins). The
 * name and value are checked against librdkafka now, so a typo is a usage
 * error before anything connects. @return 0 or LING_EUSAGE ("kafka
 * property KEY: librdkafka's message").
 */
int ling_kafka_conf_put(struct ling_kafka_conf *conf, const char *key, const char *value, struct ling_err *err);

/* ling_kafka_conf_put of "key=value", the argument of -X. @return 0 or LING_EUSAGE. */
int ling_kafka_conf_arg(struct ling_kafka_conf *conf, const char *key_value, struct ling_err *err);

/* Checks the argument of -X alone (given to a conf later). @return 0 or LING_EUSAGE. */
int ling_kafka_conf_check_arg(const char *key_value, struct ling_err *err);

/*
 * A new conf for the command-line form BROKERS/TOPIC (split at the last
 * '/'), with the -X arguments props[0..nprops) applied in order; *topic
 * points into spec. The caller frees *conf, also on error.
 * @return 0 or LING_EUSAGE.
 */
int ling_kafka_conf_for(const char *spec, const char *const *props, size_t nprops, struct ling_kafka_conf **conf,
			const char **topic, struct ling_err *err);

/*
 * Reads a config file: one key=value per line (spaces around the key and
 * the value are dropped), blank lines and lines starting with # skipped.
 * @return 0, LING_EIO (cannot read it) or LING_EUSAGE with the file:line.
 */
int ling_kafka_conf_file(struct ling_kafka_conf *conf, const char *path, struct ling_err *err);

/* The value of key as set, or NULL when it was not set. */
const char *ling_kafka_conf_get(const struct ling_kafka_conf *conf, const char *key);

/* ---- consumer ---- */

/* A next-offset meaning "the first message the partition still has". */
#define LING_KAFKA_OFFSET_BEGINNING (-2)

/* One message; its pointers stay valid until the next poll or free. */
struct ling_kafka_msg {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *key; /* NULL when the message has none */
	size_t key_len;
	const char *payload; /* NULL for an empty message */
	size_t len;
};

/*
 * Connects to the cluster of conf (bootstrap.servers must be set) and reads
 * the topic's partitions, waiting up to socket.timeout.ms (default 60 s; put
 * a smaller one in conf to fail faster) for the metadata.
 * @return 0, LING_EUSAGE (bad conf), LING_EIO (no broker answered, the topic
 * does not exist).
 */
int ling_kafka_consumer_new(struct ling_kafka_consumer **out, const struct ling_kafka_conf *conf, const char *topic,
			    struct ling_err *err);

/* The number of partitions of the topic (numbered 0..n-1), as found by _new. */
size_t ling_kafka_consumer_partitions(const struct ling_kafka_consumer *c);

/*
 * Starts reading partition p at next_offsets[p] (an offset, or
 * LING_KAFKA_OFFSET_BEGINNING), for p < n (n at most the partition count;
 * the others are not read). Call it once. @return 0 or LING_EIO.
 */
int ling_kafka_consumer_assign(struct ling_kafka_consumer *c, const int64_t *next_offsets, size_t n,
			       struct ling_err *err);

/*
 * Waits up to timeout_ms for a message, then takes the ones already
 * fetched without waiting, up to max, and returns them in *msgs (owned by c,
 * valid until the next poll), in order within each partition. *n is 0 when
 * nothing came in time. It polls even when the consumer is caught up (new
 * messages clear that), but stops gathering once it is.
 * @return 0, or LING_EIO for an error that retrying will not cure (an offset
 * out of range, the topic deleted, a fatal client error).
 */
int ling_kafka_consumer_poll(struct ling_kafka_consumer *c, size_t max, int timeout_ms,
			     const struct ling_kafka_msg **msgs, size_t *n, struct ling_err *err);

/*
 * 1 when every assigned partition has been read to its end (the high
 * watermark, as the broker last said) and every message was returned by a
 * poll: what --until-idle waits for. 0 before that or after a newer message.
 */
int ling_kafka_consumer_caught_up(const struct ling_kafka_consumer *c);

void ling_kafka_consumer_free(struct ling_kafka_consumer *c); /* NULL is fine; commits nothing */

/* ---- producer ---- */

/* ling_kafka_produce's partition: let the partitioner choose (by key hash when there is a key). */
#define LING_KAFKA_ANY_PARTITION (-1)

/*
 * An idempotent producer (enable.idempotence=true: retries never duplicate or
 * reorder a partition's messages) for topic, with acks=all.
 * @return 0, LING_EUSAGE (bad conf) or LING_EIO.
 */
int ling_kafka_producer_new(struct ling_kafka_producer **out, const struct ling_kafka_conf *conf, const char *topic,
			    struct ling_err *err);

/*
 * Queues one message (key and value are copied; key may be NULL). When the
 * local queue is full it waits for room. @return 0, or LING_EIO (a message
 * too large for the client, a delivery that failed earlier, a fatal error).
 */
int ling_kafka_produce(struct ling_kafka_producer *p, int32_t partition, const void *key, size_t key_len,
		       const void *value, size_t len, struct ling_err *err);

/*
 * Waits until every queued message is acknowledged by the cluster, up to
 * timeout_ms. @return 0 when all were delivered, else LING_EIO (a failed
 * delivery, with its reason, or the timeout): the caller must not record
 * them as written.
 */
int ling_kafka_flush(struct ling_kafka_producer *p, int timeout_ms, struct ling_err *err);

/* Messages produced and acknowledged so far. */
uint64_t ling_kafka_producer_delivered(const struct ling_kafka_producer *p);

/* Frees p; messages not flushed are dropped (flush first). NULL is fine. */
void ling_kafka_producer_free(struct ling_kafka_producer *p);

/* The librdkafka version, "2.0.2". */
const char *ling_kafka_version(void);

#endif
