/* A librdkafka mock cluster on loopback for the capture rig (docs/protocol-captures.md).
 * Prints its bootstrap address ("127.0.0.1:PORT") on stdout, then serves until stdin
 * closes. Usage: mock_cluster [BROKERS] [TOPIC...]  (each topic: 3 partitions).
 * Build: cc -o mock_cluster mock_cluster.c -lrdkafka */
#include <stdio.h>
#include <stdlib.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

int main(int argc, char **argv) {
    int brokers = argc > 1 ? atoi(argv[1]) : 1;
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "mock_cluster: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "mock_cluster: could not start the mock cluster\n");
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, argv[i], 3, brokers < 3 ? brokers : 3);
        if (e) fprintf(stderr, "mock_cluster: topic %s: %s\n", argv[i], rd_kafka_err2str(e));
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (getchar() != EOF) {
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
