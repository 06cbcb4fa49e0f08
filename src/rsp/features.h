/* RSP feature negotiation and qXfer objects: the qSupported exchange, the
 * thread list document and the chunking of qXfer reads. Internal to
 * src/rsp; the session is the only user. */
#ifndef KVMDBG_RSP_FEATURES_H
#define KVMDBG_RSP_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsp/target.h"

/*
 * A bounded byte buffer that replies are built in. Appends past the end
 * are dropped and set overflow, so a builder can append freely and check
 * once at the end instead of after every call.
 */
struct rsp__buf {
	char *p;
	size_t len;
	size_t cap;
	bool overflow;
};

void rsp__buf_init(struct rsp__buf *b, char *mem, size_t cap);
void rsp__buf_reset(struct rsp__buf *b);
void rsp__buf_put(struct rsp__buf *b, const void *data, size_t len);
void rsp__buf_puts(struct rsp__buf *b, const char *s);
void rsp__buf_printf(struct rsp__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Two lowercase hex digits per byte. */
void rsp__buf_hex(struct rsp__buf *b, const void *data, size_t len);
/* Text with the five XML special characters escaped; control
 * characters, which XML 1.0 cannot carry, become spaces. */
void rsp__buf_xml(struct rsp__buf *b, const char *s);

/* What the debugger said it supports in its qSupported packet. */
struct rsp__client_features {
	bool multiprocess;
	bool swbreak;
	bool hwbreak;
	/* gdb 16+: 'x' replies carry a 'b' prefix. */
	bool binary_upload;
};

/* Parses the text after "qSupported:" ([p, end), ';'-separated). Unknown
 * features are ignored, as the protocol asks. */
void rsp__parse_client_features(const char *p, const char *end,
				struct rsp__client_features *out);

/* What kvmdbg can offer on this target. */
struct rsp__stub_features {
	size_t packet_size;
	bool features_xml; /* a target.xml exists */
	bool exec_file;	   /* the image path is known */
	bool conditions;   /* Z0/Z1 conditions evaluated by the target */
};

/* The reply to qSupported. */
void rsp__supported_reply(struct rsp__buf *b,
			  const struct rsp__stub_features *f);

/*
 * The qXfer:threads:read document for threads 1..nr, e.g.
 * <thread id="1" core="0" name="vCPU 0">extra</thread>. Returns a
 * malloc'ed NUL-terminated document and its length, or NULL on -ENOMEM.
 */
char *rsp__threads_xml(const struct rsp_target_ops *ops, void *t, unsigned nr,
		       size_t *len);

/*
 * The reply to a qXfer read of [off, off + len) of a document: 'l' and
 * the data when it reaches the end, else 'm' and as much data as fits.
 * max_payload bounds the reply once escaped for the wire.
 */
void rsp__xfer_reply(struct rsp__buf *b, const void *doc, size_t doc_len,
		     uint64_t off, uint64_t len, size_t max_payload);

#endif
