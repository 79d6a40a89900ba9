/* The demo's distroless service: the only program in its image (no shell, no libc
 * beside it), statically linked. It logs a line every few seconds and ends on SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping = 0;

static void stop(int sig) {
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv) {
    unsigned seconds = 3;
    if (argc > 1 && sscanf(argv[1], "%u", &seconds) != 1) {
        fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
        return 2;
    }
    signal(SIGTERM, stop);
    signal(SIGINT, stop);
    printf("payments 1.4.2 listening on :8443 as uid %u\n", (unsigned)getuid());
    fflush(stdout);
    for (unsigned long n = 1; !stopping; n++) {
        sleep(seconds);
        if (stopping)
            break;
        printf("processed order %lu in %lu ms\n", 1000 + n, 10 + (n * 7) % 40);
        fflush(stdout);
    }
    printf("payments stopping\n");
    return 0;
}
