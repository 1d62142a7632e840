/*
 * floor.c -- the machine's bare floor for the benchmark shapes: what fork, exit, a pipe and
 * waitpid cost with no supervisor in between. Prints "KEY metric value" lines.
 *
 * fork_started  fork() -> the child running (its CLOCK_MONOTONIC stamp, sent back by pipe);
 * fork_exit     fork() -> the child exits -> waitpid() returns in the parent;
 * fork_storm    1,000 children forked back to back in batches, all reaped: forks per second;
 * fork_started_N  fork_started with N idle children (in pause()) alive: the floor of shape 8.
 *
 *   floor ITERATIONS STORM_ROUNDS STORM_BATCH [IDLE_ITERATIONS N...]
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
}

static void
fork_started(const char *key, int iters)
{
	int fds[2];

	if (pipe(fds) != 0)
		die("pipe");
	for (int i = 0; i < iters; i++)
	{
		uint64_t t0 = now_ns(), entered;
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
		{
			entered = now_ns();
			if (write(fds[1], &entered, sizeof(entered)) != sizeof(entered))
				_exit(1);
			_exit(0);
		}
		if (read(fds[0], &entered, sizeof(entered)) != sizeof(entered))
			die("read");
		printf("%s latency_us %.3f\n", key, (double) (entered - t0) / 1000.0);
		reap(pid);
	}
	close(fds[0]);
	close(fds[1]);
}

static void
fork_exit(int iters)
{
	for (int i = 0; i < iters; i++)
	{
		uint64_t t0 = now_ns();
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		reap(pid);
		printf("fork_exit latency_us %.3f\n", (double) (now_ns() - t0) / 1000.0);
	}
}

static void
fork_storm(int rounds, int batch)
{
	const int total = 1000;
	pid_t *pids = malloc(sizeof(pid_t) * (size_t) batch);

	for (int r = 0; r < rounds; r++)
	{
		uint64_t t0 = now_ns();

		for (int done = 0; done < total;)
		{
			int n = total - done < batch ? total - done : batch;

			for (int i = 0; i < n; i++)
			{
				pids[i] = fork();
				if (pids[i] < 0)
					die("fork");
				if (pids[i] == 0)
					_exit(0);
			}
			for (int i = 0; i < n; i++)
				reap(pids[i]);
			done += n;
		}
		printf("fork_storm forks_per_s %.3f\n", total / ((double) (now_ns() - t0) / 1e9));
	}
	free(pids);
}

/* fork_started with `idle` children asleep in pause() meanwhile. */
static void
fork_started_with_idle(int iters, int idle)
{
	pid_t *pids = malloc(sizeof(pid_t) * (size_t) idle);
	char key[32];

	for (int i = 0; i < idle; i++)
	{
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0)
		{
			for (;;)
				pause();
		}
	}
	usleep(100 * 1000);
	snprintf(key, sizeof(key), "fork_started_%d", idle);
	fork_started(key, iters);
	for (int i = 0; i < idle; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < idle; i++)
		reap(pids[i]);
	free(pids);
}

int
main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 500;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	int batch = argc > 3 ? atoi(argv[3]) : 100;

	if (iters <= 0 || rounds <= 0 || batch <= 0 || batch > 1000)
	{
		fprintf(stderr, "usage: floor ITERATIONS STORM_ROUNDS STORM_BATCH(1..1000)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	fork_started("fork_started", iters);
	fork_exit(iters);
	fork_storm(rounds, batch);
	for (int i = 5; i < argc; i++)
		fork_started_with_idle(atoi(argv[4]), atoi(argv[i]));
	return 0;
}
