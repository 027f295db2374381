/*
 * ling_kafka: every rd_kafka_* call of ling (see ling_kafka.h).
 */
#include "ling_kafka.h"

#include "ling_input.h"
#include "ling_mem.h"
#include "ling_num.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banned.h"

/* ---- configuration: key/value pairs, turned into an rd_kafka_conf_t per client ---- */

struct kafka_prop {
	char *key, *value;
};

struct ling_kafka_conf {
	struct kafka_prop *props;
	size_t n, cap;
};

struct ling_kafka_conf *ling_kafka_conf_new(void)
{
	return xcalloc(1, sizeof(struct ling_kafka_conf));
}

void ling_kafka_conf_free(struct ling_kafka_conf *conf)
{
	size_t i;

	if (!conf)
		return;
	for (i = 0; i < conf->n; i++) {
		free(conf->props[i].key);
		free(conf->props[i].value);
	}
	free(conf->props);
	free(conf);
}

const char *ling_kafka_conf_get(const struct ling_kafka_conf *conf, const char *key)
{
	size_t i;

	for (i = conf->n; i-- > 0;)
		if (!strcmp(conf->props[i].key, key))
			return conf->props[i].value;
	return NULL;
}

/* Sets key on rk_conf. @return 0 or LING_EUSAGE with librdkafka's reason. */
static int conf_set(rd_kafka_conf_t *rk_conf, const char *key, const char *value, struct ling_err *err)
{
	char why[512];

	if (rd_kafka_conf_set(rk_conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK)
		return ling_err_set(err, LING_EUSAGE, "kafka property %s: %s", key, why);
	return 0;
}

int ling_kafka_conf_put(struct ling_kafka_conf *conf, const char *key, const char *value, struct ling_err *err)
{
	rd_kafka_conf_t *check = rd_kafka_conf_new();
	int rc = conf_set(check, key, value, err);

	rd_kafka_conf_destroy(check);
	if (rc)
		return rc;
	conf->props = xgrow(conf->props, &conf->cap, conf->n + 1, sizeof(*conf->props));
	conf->props[conf->n].key = xstrdup(key);
	conf->props[conf->n].value = xstrdup(value);
	conf->n++;
	return 0;
}

/* Puts "key=value" s[0..n), spaces around key and value dropped. */
static int put_pair(struct ling_kafka_conf *conf, const char *s, size_t n, struct ling_err *err)
{
	const char *eq = memchr(s, '=', n);
	size_t klen, vstart, vend;
	char *key, *value;
	int rc;

	if (!eq || eq == s)
		return ling_err_set(err, LING_EUSAGE, "kafka property: expected key=value, got '%.*s'", (int)n, s);
	klen = (size_t)(eq - s);
	while (klen > 0 && (s[klen - 1] == ' ' || s[klen - 1] == '\t'))
		klen--;
	vstart = (size_t)(eq - s) + 1;
	while (vstart < n && (s[vstart] == ' ' || s[vstart] == '\t'))
		vstart++;
	vend = n;
	while (vend > vstart && (s[vend - 1] == ' ' || s[vend - 1] == '\t' || s[vend - 1] == '\r'))
		vend--;
	key = xmalloc(klen + 1);
	memcpy(key, s, klen);
	key[klen] = '\0';
	value = xmalloc(vend - vstart + 1);
	memcpy(value, s + vstart, vend - vstart);
	value[vend - vstart] = '\0';
	rc = ling_kafka_conf_put(conf, key, value, err);
	free(key);
	free(value);
	return rc;
}

int ling_kafka_conf_arg(struct ling_kafka_conf *conf, const char *key_value, struct ling_err *err)
{
	return put_pair(conf, key_value, strlen(key_value), err);
}

int ling_kafka_conf_check_arg(const char *key_value, struct ling_err *err)
{
	struct ling_kafka_conf *check = ling_kafka_conf_new();
	int rc = ling_kafka_conf_arg(check, key_value, err);

	ling_kafka_conf_free(check);
	return rc;
}

int ling_kafka_conf_for(const char *spec, const char *const *props, size_t nprops, struct ling_kafka_conf **conf,
			const char **topic, struct ling_err *err)
{
	const char *slash = strrchr(spec, '/');
	char *brokers = xstrndup(spec, slash ? (size_t)(slash - spec) : strlen(spec));
	size_t i;
	int rc;

	*topic = slash ? slash + 1 : "";
	*conf = ling_kafka_conf_new();
	rc = ling_kafka_conf_put(*conf, "bootstrap.servers", brokers, err);
	free(brokers);
	for (i = 0; !rc && i < nprops; i++)
		rc = ling_kafka_conf_arg(*conf, props[i], err);
	return rc;
}

int ling_kafka_conf_file(struct ling_kafka_conf *conf, const char *path, struct ling_err *err)
{
	struct ling_input *in;
	const char *line;
	size_t len;
	long lineno = 0;
	int rc;

	if ((rc = ling_input_open(&in, path, err)))
		return rc;
	while ((rc = ling_input_getline(in, &line, &len, err)) > 0) {
		size_t i = 0;

		lineno++;
		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
			i++;
		if (i == len || line[i] == '#')
			continue;
		if ((rc = put_pair(conf, line + i, len - i, err))) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			err->line = lineno;
			break;
		}
	}
	ling_input_close(in);
	return rc < 0 ? rc : 0;
}

/* librdkafka's log lines are its own retries and reconnections: quiet unless LING_KAFKA_LOG is set. */
static void log_quietly(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (getenv("LING_KAFKA_LOG"))
		fprintf(stderr, "librdkafka: %d %s: %s\n", level, fac, buf);
}

/* A new conf holding defaults, then conf's properties, then forced. */
static int build_conf(rd_kafka_conf_t **out, const struct ling_kafka_conf *conf, const char *const *defaults,
		      const char *const *forced, struct ling_err *err)
{
	rd_kafka_conf_t *rk_conf = rd_kafka_conf_new();
	size_t i;
	int rc = 0;

	*out = NULL;
	for (i = 0; defaults[i] && !rc; i += 2)
		if (!ling_kafka_conf_get(conf, defaults[i]))
			rc = conf_set(rk_conf, defaults[i], defaults[i + 1], err);
	for (i = 0; i < conf->n && !rc; i++)
		rc = conf_set(rk_conf, conf->props[i].key, conf->props[i].value, err);
	for (i = 0; forced[i] && !rc; i += 2)
		rc = conf_set(rk_conf, forced[i], forced[i + 1], err);
	if (!rc && !ling_kafka_conf_get(conf, "bootstrap.servers") && !ling_kafka_conf_get(conf, "metadata.broker.list"))
		rc = ling_err_set(err, LING_EUSAGE, "no kafka brokers given (bootstrap.servers)");
	if (rc) {
		rd_kafka_conf_destroy(rk_conf);
		return rc;
	}
	rd_kafka_conf_set_log_cb(rk_conf, log_quietly);
	*out = rk_conf;
	return 0;
}

/* The metadata wait: socket.timeout.ms when set, else 60 s (librdkafka's default). */
static int metadata_timeout_ms(const struct ling_kafka_conf *conf)
{
	const char *v = ling_kafka_conf_get(conf, "socket.timeout.ms");
	long long ms;

	return v && !ling_parse_long(v, 10, 300000, &ms) ? (int)ms : 60000;
}

/* ---- consumer ---- */

struct ling_kafka_consumer {
	rd_kafka_t *rk;
	char *topic;
	size_t npartitions;
	size_t nassigned;
	unsigned char *at_end; /* per partition: its end was reached and nothing came after */
	rd_kafka_message_t **held; /* the messages of the last poll */
	struct ling_kafka_msg *msgs;
	size_t nheld, cap;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the partition count of topic, retrying while the cluster is unreachable. */
static int read_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, size_t *n, struct ling_err *err)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	long long deadline = now_ms() + timeout_ms;
	rd_kafka_resp_err_t e;
	int rc = 0;

	for (;;) {
		const struct rd_kafka_metadata *md = NULL;
		long long left = deadline - now_ms();

		e = rd_kafka_metadata(rk, 0, rkt, &md, left > 1000 ? 1000 : left > 0 ? (int)left : 1);
		if (!e && md->topic_cnt == 1)
			e = md->topics[0].err;
		if (!e) {
			*n = (size_t)md->topics[0].partition_cnt;
			if (*n == 0)
				e = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		}
		if (md)
			rd_kafka_metadata_destroy(md);
		if (!e)
			break;
		/* A topic that does not exist is not worth waiting for; a broker that is not up yet may be. */
		if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || now_ms() >= deadline) {
			rc = ling_err_set(err, LING_EIO, "kafka topic %s: %s", topic, rd_kafka_err2str(e));
			break;
		}
	}
	rd_kafka_topic_destroy(rkt);
	return rc;
}

int ling_kafka_consumer_new(struct ling_kafka_consumer **out, const struct ling_kafka_conf *conf, const char *topic,
			    struct ling_err *err)
{
	/*
	 * A broker holds an empty fetch for fetch.wait.max.ms: at 500 (librdkafka's default) every
	 * --until-idle run would spend half a second learning that a partition has nothing more.
	 * Bigger fetches than the 1 MB default keep a bulk catch-up from waiting on round trips.
	 */
	static const char *const defaults[] = { "group.id", "ling", "fetch.wait.max.ms", "100",
						"fetch.message.max.bytes", "8388608", NULL };
	/* Our stored offsets are the source of truth: Kafka keeps none, and never jumps over a gap. */
	static const char *const forced[] = { "enable.auto.commit", "false", "enable.auto.offset.store", "false",
					      "enable.partition.eof", "true", "auto.offset.reset", "error", NULL };
	struct ling_kafka_consumer *c;
	rd_kafka_conf_t *rk_conf;
	char why[512];
	int rc;

	*out = NULL;
	if ((rc = build_conf(&rk_conf, conf, defaults, forced, err)))
		return rc;
	c = xcalloc(1, sizeof(*c));
	c->topic = xstrdup(topic);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rk_conf, why, sizeof(why));
	if (!c->rk) {
		rd_kafka_conf_destroy(rk_conf);
		rc = ling_err_set(err, LING_EUSAGE, "cannot make a kafka consumer: %s", why);
		goto fail;
	}
	rd_kafka_poll_set_consumer(c->rk);
	if ((rc = read_partitions(c->rk, topic, metadata_timeout_ms(conf), &c->npartitions, err)))
		goto fail;
	c->at_end = xcalloc(c->npartitions, 1);
	*out = c;
	return 0;
fail:
	ling_kafka_consumer_free(c);
	return rc;
}

size_t ling_kafka_consumer_partitions(const struct ling_kafka_consumer *c)
{
	return c->npartitions;
}

int ling_kafka_consumer_assign(struct ling_kafka_consumer *c, const int64_t *next_offsets, size_t n,
			       struct ling_err *err)
{
	rd_kafka_topic_partition_list_t *list;
	rd_kafka_resp_err_t e;
	size_t p;

	if (n > c->npartitions)
		n = c->npartitions;
	list = rd_kafka_topic_partition_list_new((int)n);
	for (p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(list, c->topic, (int32_t)p)->offset = next_offsets[p];
	e = rd_kafka_assign(c->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (e)
		return ling_err_set(err, LING_EIO, "kafka topic %s: cannot assign partitions: %s", c->topic,
				    rd_kafka_err2str(e));
	c->nassigned = n;
	return 0;
}

int ling_kafka_consumer_caught_up(const struct ling_kafka_consumer *c)
{
	size_t p;

	for (p = 0; p < c->nassigned; p++)
		if (!c->at_end[p])
			return 0;
	return 1;
}

static void release_held(struct ling_kafka_consumer *c)
{
	size_t i;

	for (i = 0; i < c->nheld; i++)
		rd_kafka_message_destroy(c->held[i]);
	c->nheld = 0;
}

/*
 * An error event of the consumer: errors a retry cures (brokers down, leader
 * changes, timeouts) are librdkafka's to retry; those that lose our place
 * are ours to report. @return 0 or LING_EIO.
 */
static int consumer_error(struct ling_kafka_consumer *c, const rd_kafka_message_t *m, struct ling_err *err)
{
	char fatal[512];

	if (rd_kafka_fatal_error(c->rk, fatal, sizeof(fatal)))
		return ling_err_set(err, LING_EIO, "kafka: %s", fatal);
	switch (m->err) {
	case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
	case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
		return ling_err_set(err, LING_EIO,
				    "kafka %s/%d: the stored offset %lld is out of the partition's range "
				    "(messages expired, or another topic of that name): %s",
				    c->topic, (int)m->partition, (long long)m->offset, rd_kafka_message_errstr(m));
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR__FATAL:
		return ling_err_set(err, LING_EIO, "kafka %s: %s", c->topic, rd_kafka_message_errstr(m));
	default:
		return 0;
	}
}

/* Takes one event from librdkafka. @return 1 for a message kept, 0 for nothing or another event, <0 error. */
static int take_event(struct ling_kafka_consumer *c, rd_kafka_message_t *m, struct ling_err *err)
{
	size_t p = m->partition >= 0 ? (size_t)m->partition : 0;
	int rc;

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (p < c->nassigned)
			c->at_end[p] = 1;
		rd_kafka_message_destroy(m);
		return 0;
	}
	if (m->err) {
		rc = consumer_error(c, m, err);
		rd_kafka_message_destroy(m);
		return rc;
	}
	if (p < c->nassigned)
		c->at_end[p] = 0;
	c->held = xgrow(c->held, &c->cap, c->nheld + 1, sizeof(*c->held));
	c->msgs = xrealloc(c->msgs, c->cap * sizeof(*c->msgs));
	c->held[c->nheld] = m;
	c->msgs[c->nheld] = (struct ling_kafka_msg){ c->topic, m->partition, m->offset, m->key, m->key_len,
						     m->payload, m->len };
	c->nheld++;
	return 1;
}

int ling_kafka_consumer_poll(struct ling_kafka_consumer *c, size_t max, int timeout_ms,
			     const struct ling_kafka_msg **msgs, size_t *n, struct ling_err *err)
{
	long long deadline = now_ms() + timeout_ms;
	int rc = 0, first;

	release_held(c);
	*msgs = NULL;
	*n = 0;
	/* Poll at least once, caught up or not: a daemon waits here for what comes next. */
	for (first = 1; c->nheld < max && (first || !ling_kafka_consumer_caught_up(c)); first = 0) {
		long long left = c->nheld ? 0 : deadline - now_ms();
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, left > 0 ? (int)left : 0);

		if (!m) {
			if (c->nheld || left <= 0)
				break;
			continue;
		}
		if ((rc = take_event(c, m, err)) < 0)
			break;
	}
	if (rc < 0) {
		release_held(c);
		return rc;
	}
	*msgs = c->msgs;
	*n = c->nheld;
	return 0;
}

void ling_kafka_consumer_free(struct ling_kafka_consumer *c)
{
	if (!c)
		return;
	release_held(c);
	if (c->rk) {
		rd_kafka_consumer_close(c->rk);
		rd_kafka_destroy(c->rk);
	}
	free(c->held);
	free(c->msgs);
	free(c->at_end);
	free(c->topic);
	free(c);
}

/* ---- producer ---- */

struct ling_kafka_producer {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char *topic;
	uint64_t delivered;
	rd_kafka_resp_err_t failed; /* the first failed delivery */
	char failed_msg[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct ling_kafka_producer *p = opaque;

	(void)rk;
	if (!m->err) {
		p->delivered++;
	} else if (!p->failed) {
		p->failed = m->err;
		snprintf(p->failed_msg, sizeof(p->failed_msg), "%s", rd_kafka_err2str(m->err));
	}
}

int ling_kafka_producer_new(struct ling_kafka_producer **out, const struct ling_kafka_conf *conf, const char *topic,
			    struct ling_err *err)
{
	static const char *const defaults[] = { NULL };
	/* Idempotence: librdkafka's retries never duplicate or reorder a partition's messages. */
	static const char *const forced[] = { "enable.idempotence", "true", "acks", "all", NULL };
	struct ling_kafka_producer *p;
	rd_kafka_conf_t *rk_conf;
	char why[512];
	int rc;

	*out = NULL;
	if ((rc = build_conf(&rk_conf, conf, defaults, forced, err)))
		return rc;
	p = xcalloc(1, sizeof(*p));
	p->topic = xstrdup(topic);
	rd_kafka_conf_set_dr_msg_cb(rk_conf, on_delivery);
	rd_kafka_conf_set_opaque(rk_conf, p);
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rk_conf, why, sizeof(why));
	if (!p->rk) {
		rd_kafka_conf_destroy(rk_conf);
		free(p->topic);
		free(p);
		return ling_err_set(err, LING_EUSAGE, "cannot make a kafka producer: %s", why);
	}
	p->rkt = rd_kafka_topic_new(p->rk, topic, NULL);
	*out = p;
	return 0;
}

static int producer_failed(struct ling_kafka_producer *p, struct ling_err *err)
{
	char fatal[512];

	if (rd_kafka_fatal_error(p->rk, fatal, sizeof(fatal)))
		return ling_err_set(err, LING_EIO, "kafka %s: %s", p->topic, fatal);
	if (p->failed)
		return ling_err_set(err, LING_EIO, "kafka %s: a message was not delivered: %s", p->topic, p->failed_msg);
	return 0;
}

int ling_kafka_produce(struct ling_kafka_producer *p, int32_t partition, const void *key, size_t key_len,
		       const void *value, size_t len, struct ling_err *err)
{
	int rc;

	for (;;) {
		if ((rc = producer_failed(p, err)))
			return rc;
		if (rd_kafka_produce(p->rkt, partition, RD_KAFKA_MSG_F_COPY, (void *)value, len, key, key_len, NULL) == 0)
			break;
		if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return ling_err_set(err, LING_EIO, "kafka %s: cannot queue a message of %zu bytes: %s", p->topic,
					    len, rd_kafka_err2str(rd_kafka_last_error()));
		rd_kafka_poll(p->rk, 100); /* room comes as deliveries are acknowledged */
	}
	rd_kafka_poll(p->rk, 0);
	return 0;
}

int ling_kafka_flush(struct ling_kafka_producer *p, int timeout_ms, struct ling_err *err)
{
	rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
	int rc = producer_failed(p, err);

	if (!rc && e)
		rc = ling_err_set(err, LING_EIO, "kafka %s: %d messages not acknowledged after %d ms: %s", p->topic,
				  rd_kafka_outq_len(p->rk), timeout_ms, rd_kafka_err2str(e));
	return rc;
}

uint64_t ling_kafka_producer_delivered(const struct ling_kafka_producer *p)
{
	return p->delivered;
}

void ling_kafka_producer_free(struct ling_kafka_producer *p)
{
	if (!p)
		return;
	rd_kafka_topic_destroy(p->rkt);
	rd_kafka_destroy(p->rk);
	free(p->topic);
	free(p);
}

const char *ling_kafka_version(void)
{
	return rd_kafka_version_str();
}
