/*
 * Streaming speech recognition for one audio stream, with Debian's pocketsphinx (libpocketsphinx3,
 * pocketsphinx-en-us). Reads 16 kHz mono signed 16-bit PCM on stdin, as it comes, and writes one
 * JSON line per event on stdout:
 *
 *   {"t":"start","ms":1230}                              speech began (ms of audio so far)
 *   {"t":"partial","text":"go forward","ms":1830}        the best guess of the utterance so far
 *   {"t":"final","text":"go forward ten meters","startMs":1230,"endMs":2520}
 *   {"t":"ready"}                                        the model is loaded
 *
 * An utterance ends when the voice activity detector has heard VAD_POSTSPEECH frames of silence
 * (10 ms each); stdin closing ends the last one. Usage: pocketsphinx-stream HMM LM DICT.
 * Built by scripts/ensure-speech-engines.mjs (gcc, libpocketsphinx-dev).
 */
#include <pocketsphinx.h>
#include <stdio.h>
#include <string.h>

/* Frames of silence that end an utterance: 0.35 s, short enough for a caption to follow soon. */
#define VAD_POSTSPEECH "35"
/* A partial result at most every this much audio while speech goes on (ms). */
#define PARTIAL_EVERY_MS 250

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s HMM LM DICT\n", argv[0]);
    return 64;
  }
  cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", argv[1], "-lm", argv[2], "-dict", argv[3],
                                 "-logfn", "/dev/null", "-vad_postspeech", VAD_POSTSPEECH, NULL);
  if (!config) return 65;
  ps_decoder_t *ps = ps_init(config);
  if (!ps) return 66;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("{\"t\":\"ready\"}\n");

  int16 buf[160]; /* 10 ms */
  size_t n;
  long samples = 0, started_at = -1, last_partial = 0;
  char last[4096] = "";
  ps_start_utt(ps);
  while ((n = fread(buf, sizeof(int16), 160, stdin)) > 0) {
    ps_process_raw(ps, buf, n, FALSE, FALSE);
    samples += n;
    long ms = samples / 16;
    int in_speech = ps_get_in_speech(ps);
    if (in_speech && started_at < 0) {
      started_at = ms;
      last_partial = ms;
      last[0] = 0;
      printf("{\"t\":\"start\",\"ms\":%ld}\n", ms);
    }
    if (in_speech && ms - last_partial >= PARTIAL_EVERY_MS) {
      last_partial = ms;
      const char *hyp = ps_get_hyp(ps, NULL);
      if (hyp && *hyp && strcmp(hyp, last) != 0) {
        strncpy(last, hyp, sizeof(last) - 1);
        printf("{\"t\":\"partial\",\"ms\":%ld,\"text\":", ms);
        json_string(hyp);
        printf("}\n");
      }
    }
    if (!in_speech && started_at >= 0) {
      ps_end_utt(ps);
      const char *hyp = ps_get_hyp(ps, NULL);
      printf("{\"t\":\"final\",\"startMs\":%ld,\"endMs\":%ld,\"text\":", started_at, ms);
      json_string(hyp ? hyp : "");
      printf("}\n");
      started_at = -1;
      ps_start_utt(ps);
    }
  }
  ps_end_utt(ps);
  if (started_at >= 0) {
    const char *hyp = ps_get_hyp(ps, NULL);
    printf("{\"t\":\"final\",\"startMs\":%ld,\"endMs\":%ld,\"text\":", started_at, samples / 16);
    json_string(hyp ? hyp : "");
    printf("}\n");
  }
  ps_free(ps);
  cmd_ln_free_r(config);
  return 0;
}
