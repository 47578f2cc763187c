/*
 * fakecam: an LD_PRELOAD shim that makes a V4L2 client believe a UVC camera
 * is attached.  See README.md for the environment variables.
 *
 * Design notes
 * - The fake device fd is a real eventfd (semaphore mode).  Its counter always
 *   equals the number of buffers waiting to be dequeued, so poll/select/epoll
 *   work on it without interception, and O_NONBLOCK set later via fcntl()
 *   lands on a real file and is honoured by reading it back with F_GETFL.
 * - Buffer memory lives in a memfd.  mmap() of the fake fd maps the same
 *   memfd range, so client munmap() needs no special handling and mappings
 *   stay valid after the buffers are freed (like vb2 "orphaned" buffers).
 * - One mutex per device guards the device and the queues of all fds open on
 *   it; the controls and the format are device-wide like in the driver.
 */
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

#define MAXDEV 8
#define MAXSLOTS 64
#define FDTAB 65536
#define MAXBUF 32
#define MAXSIZES 16
#define MAXIVALS 16
#define MAXMAPS 512

/* ---------------------------------------------------------------- real libc */

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static int (*real_fcntl)(int, int, ...);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int (*real_pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
static int (*real_access)(const char *, int);
static int (*real_faccessat)(int, const char *, int, int);
static int (*real_stat)(const char *, struct stat *);
static int (*real_lstat)(const char *, struct stat *);
static int (*real_fstatat)(int, const char *, struct stat *, int);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);

/* ------------------------------------------------------------------- config */

struct size2 { uint32_t w, h; };
struct frac { uint32_t num, den; };

struct fmtinfo {
	uint32_t fourcc;
	int nsizes;
	struct size2 sizes[MAXSIZES];
};

static struct {
	int ndev;
	char dev[MAXDEV][256];
	int want_mjpeg_pos, want_yuyv_pos; /* order in FAKECAM_FORMATS, -1 = off */
	int nyuyv;
	struct size2 yuyv[MAXSIZES];
	int nival;
	struct frac ival[MAXIVALS];
	unsigned unplug_after;
	double replug_after;
	int unplug_repeat, stamp, busy, log;
	char unplug_file[256]; /* while this file exists every device is absent */
	char card[32];
	uint32_t kver;
	size_t pagesz;
	/* filled lazily by load_jpegs() */
	int jpegs_done, njpeg;
	unsigned char **jpeg;
	size_t *jpeglen, jpegmax;
	uint32_t jw, jh;
	int nfmt;
	struct fmtinfo fmt[2];
} cfg;

static pthread_mutex_t glock = PTHREAD_MUTEX_INITIALIZER;

/* ----------------------------------------------------------------- controls */

struct ctrldef {
	uint32_t id, type;
	const char *name;
	int32_t min, max, step, def;
	uint32_t flags;
	const char *const *menu;
	uint32_t skip; /* menu indices the camera does not implement */
};

static const char *const plf_menu[] = { "Disabled", "50 Hz", "60 Hz" };
static const char *const ae_menu[] = { "Auto Mode", "Manual Mode", "Shutter Priority Mode",
				       "Aperture Priority Mode" };
#define RWO (V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_WRITE_ONLY)
/* Sorted by id: NEXT_CTRL iteration relies on it. */
static const struct ctrldef ctrls[] = {
	{ V4L2_CID_USER_CLASS, V4L2_CTRL_TYPE_CTRL_CLASS, "User Controls", 0, 0, 0, 0, RWO, NULL, 0 },
	{ V4L2_CID_BRIGHTNESS, V4L2_CTRL_TYPE_INTEGER, "Brightness", -64, 64, 1, 0, 0, NULL, 0 },
	{ V4L2_CID_CONTRAST, V4L2_CTRL_TYPE_INTEGER, "Contrast", 0, 95, 1, 32, 0, NULL, 0 },
	{ V4L2_CID_SATURATION, V4L2_CTRL_TYPE_INTEGER, "Saturation", 0, 100, 1, 64, 0, NULL, 0 },
	{ V4L2_CID_AUTO_WHITE_BALANCE, V4L2_CTRL_TYPE_BOOLEAN, "White Balance Temperature, Auto", 0, 1, 1, 1, 0,
	  NULL, 0 },
	{ V4L2_CID_GAIN, V4L2_CTRL_TYPE_INTEGER, "Gain", 0, 100, 1, 0, 0, NULL, 0 },
	{ V4L2_CID_POWER_LINE_FREQUENCY, V4L2_CTRL_TYPE_MENU, "Power Line Frequency", 0, 2, 1, 1, 0, plf_menu,
	  0 },
	{ V4L2_CID_WHITE_BALANCE_TEMPERATURE, V4L2_CTRL_TYPE_INTEGER, "White Balance Temperature", 2800, 6500,
	  10, 4600, 0, NULL, 0 },
	{ V4L2_CID_CAMERA_CLASS, V4L2_CTRL_TYPE_CTRL_CLASS, "Camera Controls", 0, 0, 0, 0, RWO, NULL, 0 },
	/* Typical UVC cameras implement only manual and aperture priority. */
	{ V4L2_CID_EXPOSURE_AUTO, V4L2_CTRL_TYPE_MENU, "Auto Exposure", 0, 3, 1, 3, 0, ae_menu, 0x5 },
	{ V4L2_CID_EXPOSURE_ABSOLUTE, V4L2_CTRL_TYPE_INTEGER, "Exposure Time, Absolute", 1, 5000, 1, 156, 0,
	  NULL, 0 },
};
#define NCTRL ((int)(sizeof(ctrls) / sizeof(ctrls[0])))

/* -------------------------------------------------------------------- state */

enum { B_DEQ, B_QUEUED, B_FILLING, B_DONE };

struct buf {
	size_t off, len;
	int state, maps;
	uint32_t bytesused, seq, flags;
	struct timeval ts;
};

struct dev;

struct slot {
	int used, fd;
	struct dev *dev;
	unsigned gen;     /* device generation at open; differs after an unplug */
	unsigned allocgen;
	/* queue; only meaningful for the fd that owns the device's queue */
	int nbufs, memfd;
	unsigned char *base;
	size_t total;
	struct buf bufs[MAXBUF];
	int q[MAXBUF], qh, qn; /* queued, oldest first */
	int d[MAXBUF], dh, dn; /* done, oldest first */
	int streaming, stop, thr_alive;
	pthread_t thr;
	uint32_t seq;
	uint64_t jpegidx;
	uint32_t fourcc, w, h, sizeimage;
	struct frac iv;
};

struct dev {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int idx, inited;
	int fmt; /* index into cfg.fmt */
	uint32_t w, h;
	int ival;
	int32_t ctl[NCTRL];
	int unplugged, unplugs;
	struct timespec unplug_ts;
	unsigned gen, delivered;
	struct slot *owner;
	struct slot *fds[MAXSLOTS];
};

static struct dev devs[MAXDEV];
static struct slot slots[MAXSLOTS];
static uint8_t fdtab[FDTAB]; /* fd -> slot index + 1; accessed atomically */

struct map {
	void *addr;
	size_t len;
	struct slot *s;
	unsigned allocgen;
	int buf;
};
static struct map maps[MAXMAPS];
static int nmaps_live; /* fast path for munmap: zero means nothing to track */
static pthread_mutex_t maplock = PTHREAD_MUTEX_INITIALIZER;

/* -------------------------------------------------------------------- utils */

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof b - 1)
		n = sizeof b - 1;
	/* write(2) rather than stdio: callers may hold stdio locks. */
	if (write(2, b, n) < 0) {
	}
}
#define LOG(...) do { if (cfg.log) logf_("fakecam: " __VA_ARGS__); } while (0)

static uint64_t now_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

static const char *envs(const char *n, const char *d)
{
	const char *v = getenv(n);
	return v && *v ? v : d;
}

static int parse_sizes(const char *s, struct size2 *out, int max)
{
	int n = 0;
	while (*s && n < max) {
		unsigned w, h;
		if (sscanf(s, "%ux%u", &w, &h) == 2 && w && h && w <= 16384 && h <= 16384) {
			out[n].w = w & ~1u; /* YUYV needs even widths */
			out[n].h = h;
			if (out[n].w)
				n++;
		}
		const char *c = strchr(s, ',');
		if (!c)
			break;
		s = c + 1;
	}
	return n;
}

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* "7.5" fps -> 2/15 s: keep intervals exact fractions like UVC's 100 ns units. */
static int parse_fps(const char *s, struct frac *out, int max)
{
	int n = 0;
	while (*s && n < max) {
		uint32_t ip = 0, fp = 0, scale = 1;
		const char *p = s;
		while (*p >= '0' && *p <= '9')
			ip = ip * 10 + (*p++ - '0');
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9' && scale < 100000) {
				fp = fp * 10 + (*p++ - '0');
				scale *= 10;
			}
		}
		uint32_t den = ip * scale + fp, num = scale;
		if (den && den / scale <= 1000) {
			uint32_t g = gcd32(num, den);
			out[n].num = num / g;
			out[n].den = den / g;
			n++;
		}
		const char *c = strchr(s, ',');
		if (!c)
			break;
		s = c + 1;
	}
	return n;
}

/* glibc < 2.33 has no stat/lstat/fstatat symbols; the raw syscall fills the
 * same struct on the 64-bit targets we build for. */
static int sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}
static int sys_stat(const char *path, struct stat *st) { return sys_fstatat(AT_FDCWD, path, st, 0); }
static int sys_lstat(const char *path, struct stat *st)
{
	return sys_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

static void init_real(void)
{
	real_open = dlsym(RTLD_NEXT, "open");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_close = dlsym(RTLD_NEXT, "close");
	real_ioctl = dlsym(RTLD_NEXT, "ioctl");
	real_mmap = dlsym(RTLD_NEXT, "mmap");
	real_munmap = dlsym(RTLD_NEXT, "munmap");
	real_fcntl = dlsym(RTLD_NEXT, "fcntl");
	real_select = dlsym(RTLD_NEXT, "select");
	real_pselect = dlsym(RTLD_NEXT, "pselect");
	real_access = dlsym(RTLD_NEXT, "access");
	real_faccessat = dlsym(RTLD_NEXT, "faccessat");
	real_stat = dlsym(RTLD_NEXT, "stat");
	real_lstat = dlsym(RTLD_NEXT, "lstat");
	real_fstatat = dlsym(RTLD_NEXT, "fstatat");
	real_fopen = dlsym(RTLD_NEXT, "fopen");
	real_fopen64 = dlsym(RTLD_NEXT, "fopen64");
	if (!real_stat)
		real_stat = sys_stat;
	if (!real_lstat)
		real_lstat = sys_lstat;
	if (!real_fstatat)
		real_fstatat = sys_fstatat;
}

static void init_cfg(void)
{
	init_real();
	const char *d = envs("FAKECAM_DEVICE", "/dev/video0");
	while (*d && cfg.ndev < MAXDEV) {
		const char *c = strchr(d, ',');
		size_t l = c ? (size_t)(c - d) : strlen(d);
		if (l && l < sizeof cfg.dev[0]) {
			memcpy(cfg.dev[cfg.ndev], d, l);
			cfg.dev[cfg.ndev][l] = 0;
			cfg.ndev++;
		}
		if (!c)
			break;
		d = c + 1;
	}
	cfg.want_mjpeg_pos = cfg.want_yuyv_pos = -1;
	const char *f = envs("FAKECAM_FORMATS", "mjpeg,yuyv");
	int pos = 0;
	while (*f) {
		if (!strncasecmp(f, "mjpeg", 5) && cfg.want_mjpeg_pos < 0)
			cfg.want_mjpeg_pos = pos++;
		else if (!strncasecmp(f, "yuyv", 4) && cfg.want_yuyv_pos < 0)
			cfg.want_yuyv_pos = pos++;
		const char *c = strchr(f, ',');
		if (!c)
			break;
		f = c + 1;
	}
	cfg.nyuyv = parse_sizes(envs("FAKECAM_SIZES", "640x480,1280x720"), cfg.yuyv, MAXSIZES);
	if (!cfg.nyuyv)
		cfg.nyuyv = parse_sizes("640x480", cfg.yuyv, MAXSIZES);
	cfg.nival = parse_fps(envs("FAKECAM_FPS", "30,15,5"), cfg.ival, MAXIVALS);
	if (!cfg.nival)
		cfg.nival = parse_fps("30", cfg.ival, MAXIVALS);
	cfg.unplug_after = (unsigned)strtoul(envs("FAKECAM_UNPLUG_AFTER", "0"), NULL, 10);
	cfg.replug_after = strtod(envs("FAKECAM_REPLUG_AFTER", "-1"), NULL);
	cfg.unplug_repeat = atoi(envs("FAKECAM_UNPLUG_REPEAT", "0"));
	cfg.stamp = atoi(envs("FAKECAM_STAMP", "0"));
	cfg.busy = atoi(envs("FAKECAM_BUSY", "0"));
	cfg.log = atoi(envs("FAKECAM_LOG", "0"));
	snprintf(cfg.unplug_file, sizeof cfg.unplug_file, "%s", envs("FAKECAM_UNPLUG_FILE", ""));
	snprintf(cfg.card, sizeof cfg.card, "%s", envs("FAKECAM_CARD", "Fake UVC Camera"));
	cfg.pagesz = (size_t)sysconf(_SC_PAGESIZE);
	struct utsname u;
	unsigned a = 0, b = 0, c = 0;
	if (uname(&u) == 0)
		sscanf(u.release, "%u.%u.%u", &a, &b, &c);
	cfg.kver = (a << 16) | (b << 8) | (c > 255 ? 255 : c);
	for (int i = 0; i < MAXDEV; i++) {
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&devs[i].cond, &ca);
		pthread_condattr_destroy(&ca);
		pthread_mutex_init(&devs[i].lock, NULL);
		devs[i].idx = i;
	}
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static inline void init(void) { pthread_once(&once, init_cfg); }
__attribute__((constructor)) static void ctor(void) { init(); }

/* ------------------------------------------------------------------- JPEGs */

static int read_file(const char *p, unsigned char **data, size_t *len)
{
	int fd = real_open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) || st.st_size < 4 || st.st_size > (64 << 20)) {
		real_close(fd);
		return -1;
	}
	unsigned char *b = malloc(st.st_size);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, st.st_size - got);
		if (r <= 0)
			break;
		got += r;
	}
	real_close(fd);
	if (!b || got != (size_t)st.st_size || b[0] != 0xFF || b[1] != 0xD8) {
		free(b);
		return -1;
	}
	*data = b;
	*len = got;
	return 0;
}

static int jpeg_dims(const unsigned char *b, size_t n, uint32_t *w, uint32_t *h)
{
	size_t i = 2;
	while (i + 4 <= n) {
		if (b[i] != 0xFF) {
			i++;
			continue;
		}
		unsigned m = b[i + 1];
		if (m == 0xFF) {
			i++;
			continue;
		}
		if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			i += 2;
			continue;
		}
		size_t l = (b[i + 2] << 8) | b[i + 3];
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			if (i + 9 > n)
				return -1;
			*h = (b[i + 5] << 8) | b[i + 6];
			*w = (b[i + 7] << 8) | b[i + 8];
			return *w && *h ? 0 : -1;
		}
		if (m == 0xDA || m == 0xD9)
			return -1;
		i += 2 + l;
	}
	return -1;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_jpeg(const char *p)
{
	unsigned char *d;
	size_t l;
	if (read_file(p, &d, &l)) {
		LOG("cannot use %s as a JPEG frame\n", p);
		return;
	}
	cfg.jpeg = realloc(cfg.jpeg, (cfg.njpeg + 1) * sizeof *cfg.jpeg);
	cfg.jpeglen = realloc(cfg.jpeglen, (cfg.njpeg + 1) * sizeof *cfg.jpeglen);
	cfg.jpeg[cfg.njpeg] = d;
	cfg.jpeglen[cfg.njpeg] = l;
	cfg.njpeg++;
	if (l > cfg.jpegmax)
		cfg.jpegmax = l;
}

/* Called with glock held, on first fake open/stat (not in the constructor so
 * that unrelated children of a preloaded process do not read the files). */
static void load_jpegs(void)
{
	if (cfg.jpegs_done)
		return;
	cfg.jpegs_done = 1;
	const char *j = getenv("FAKECAM_JPEGS");
	if (j && *j && cfg.want_mjpeg_pos >= 0) {
		struct stat st;
		if (real_stat(j, &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *dir = opendir(j);
			char **names = NULL;
			int n = 0;
			struct dirent *e;
			while (dir && (e = readdir(dir))) {
				const char *dot = strrchr(e->d_name, '.');
				if (!dot || (strcasecmp(dot, ".jpg") && strcasecmp(dot, ".jpeg")))
					continue;
				names = realloc(names, (n + 1) * sizeof *names);
				if (asprintf(&names[n], "%s/%s", j, e->d_name) > 0)
					n++;
			}
			if (dir)
				closedir(dir);
			qsort(names, n, sizeof *names, cmpstr);
			for (int i = 0; i < n; i++) {
				add_jpeg(names[i]);
				free(names[i]);
			}
			free(names);
		} else {
			char *copy = strdup(j), *save = NULL;
			for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
				add_jpeg(t);
			free(copy);
		}
		if (cfg.njpeg && jpeg_dims(cfg.jpeg[0], cfg.jpeglen[0], &cfg.jw, &cfg.jh)) {
			LOG("no SOF in first JPEG; MJPEG disabled\n");
			cfg.njpeg = 0;
		}
	}
	int mj = cfg.njpeg > 0 && cfg.want_mjpeg_pos >= 0, yu = cfg.want_yuyv_pos >= 0 || !mj;
	int mjfirst = mj && (!yu || cfg.want_yuyv_pos < 0 || cfg.want_mjpeg_pos < cfg.want_yuyv_pos);
	struct fmtinfo m = { V4L2_PIX_FMT_MJPEG, 1, { { cfg.jw, cfg.jh } } }, y = { V4L2_PIX_FMT_YUYV, 0, { { 0, 0 } } };
	y.nsizes = cfg.nyuyv;
	memcpy(y.sizes, cfg.yuyv, sizeof y.sizes);
	if (mjfirst) {
		cfg.fmt[cfg.nfmt++] = m;
		if (yu)
			cfg.fmt[cfg.nfmt++] = y;
	} else {
		cfg.fmt[cfg.nfmt++] = y;
		if (mj)
			cfg.fmt[cfg.nfmt++] = m;
	}
}

/* ----------------------------------------------------------- device helpers */

static int dev_index(const char *path)
{
	if (!path)
		return -1;
	for (int i = 0; i < cfg.ndev; i++)
		if (!strcmp(path, cfg.dev[i]))
			return i;
	return -1;
}

static void dev_reset(struct dev *d)
{
	d->fmt = 0;
	d->w = cfg.fmt[0].sizes[0].w;
	d->h = cfg.fmt[0].sizes[0].h;
	d->ival = 0;
	for (int i = 0; i < NCTRL; i++)
		d->ctl[i] = ctrls[i].def;
	d->delivered = 0;
	d->inited = 1;
}

/* With d->lock held.  Returns nonzero while the device is absent; performs a
 * scheduled replug first. */
static int dev_absent(struct dev *d)
{
	/* The raw syscall: access() itself is interposed by this library. */
	if (cfg.unplug_file[0] && syscall(SYS_faccessat, AT_FDCWD, cfg.unplug_file, F_OK) == 0)
		return 1;
	if (!d->unplugged)
		return 0;
	if (cfg.replug_after < 0)
		return 1;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double el = (t.tv_sec - d->unplug_ts.tv_sec) + (t.tv_nsec - d->unplug_ts.tv_nsec) / 1e9;
	if (el < cfg.replug_after)
		return 1;
	d->unplugged = 0;
	dev_reset(d); /* a replugged camera comes back with default settings */
	LOG("%s replugged\n", cfg.dev[d->idx]);
	return 0;
}

static uint32_t sizeimage_for(uint32_t fourcc, uint32_t w, uint32_t h)
{
	if (fourcc == V4L2_PIX_FMT_YUYV)
		return w * h * 2;
	/* Like dwMaxVideoFrameSize: a bound, not the size of any actual frame. */
	size_t s = (size_t)w * h * 2, need = cfg.jpegmax + 256;
	if (s < need)
		s = need;
	return (uint32_t)((s + 4095) & ~(size_t)4095);
}

static void wake_fd(struct slot *s, uint64_t v)
{
	if (write(s->fd, &v, sizeof v) < 0) {
	}
}

static void unplug(struct dev *d)
{
	d->unplugged = 1;
	d->unplugs++;
	d->gen++;
	d->owner = NULL;
	clock_gettime(CLOCK_MONOTONIC, &d->unplug_ts);
	/* A large count keeps every old fd readable so pollers notice ENODEV. */
	for (int i = 0; i < MAXSLOTS; i++)
		if (d->fds[i])
			wake_fd(d->fds[i], 1ull << 40);
	pthread_cond_broadcast(&d->cond);
	LOG("%s unplugged\n", cfg.dev[d->idx]);
}

/* ----------------------------------------------------------------- producer */

static void fill_yuyv(unsigned char *p, uint32_t w, uint32_t h, uint32_t seq)
{
	static const unsigned char bars[8][3] = { { 180, 128, 128 }, { 162, 44, 142 }, { 131, 156, 44 },
						  { 112, 72, 58 },   { 84, 184, 198 }, { 65, 100, 212 },
						  { 35, 212, 114 },  { 16, 128, 128 } };
	size_t stride = (size_t)w * 2;
	uint32_t bw = w / 8 ? w / 8 : 1, shift = seq * 4;
	for (uint32_t x = 0; x < w; x += 2) {
		const unsigned char *c = bars[((x + shift) / bw) % 8];
		unsigned char *q = p + x * 2;
		q[0] = c[0];
		q[1] = c[1];
		q[2] = c[0];
		q[3] = c[2];
	}
	for (uint32_t y = 1; y < h; y++)
		memcpy(p + y * stride, p, stride);
	/* The sequence number as 32 black/white blocks along the top band. */
	uint32_t band = h / 16 ? h / 16 : 1, blk = w / 32 ? (w / 32) & ~1u : 2;
	for (uint32_t bit = 0; bit < 32 && (bit + 1) * blk <= w; bit++) {
		unsigned char yv = (seq >> (31 - bit)) & 1 ? 235 : 16;
		for (uint32_t y = 0; y < band; y++) {
			unsigned char *q = p + y * stride + bit * blk * 2;
			for (uint32_t x = 0; x < blk; x += 2, q += 4) {
				q[0] = yv;
				q[1] = 128;
				q[2] = yv;
				q[3] = 128;
			}
		}
	}
	/* A white bar sweeping down so motion is obvious. */
	uint32_t ybar = (seq * 8) % h;
	for (uint32_t y = ybar; y < ybar + 4 && y < h; y++)
		for (uint32_t x = 0; x < w; x += 2) {
			unsigned char *q = p + y * stride + x * 2;
			q[0] = 235;
			q[1] = 128;
			q[2] = 235;
			q[3] = 128;
		}
}

static uint32_t fill_mjpeg(unsigned char *p, uint32_t cap, uint64_t idx, uint32_t seq, uint32_t *flags)
{
	const unsigned char *j = cfg.jpeg[idx % cfg.njpeg];
	size_t l = cfg.jpeglen[idx % cfg.njpeg];
	if (!cfg.stamp) {
		if (l > cap) {
			l = cap;
			*flags |= V4L2_BUF_FLAG_ERROR;
		}
		memcpy(p, j, l);
		return (uint32_t)l;
	}
	char txt[80];
	int n = snprintf(txt, sizeof txt, "fakecam seq=%u t=%llu", seq,
			 (unsigned long long)now_ns(CLOCK_REALTIME));
	size_t total = l + 4 + n;
	if (total > cap) {
		*flags |= V4L2_BUF_FLAG_ERROR;
		memcpy(p, j, l > cap ? cap : l);
		return l > cap ? cap : (uint32_t)l;
	}
	p[0] = 0xFF;
	p[1] = 0xD8;
	p[2] = 0xFF;
	p[3] = 0xFE;
	p[4] = (unsigned char)((n + 2) >> 8);
	p[5] = (unsigned char)(n + 2);
	memcpy(p + 6, txt, n);
	memcpy(p + 6 + n, j + 2, l - 2);
	return (uint32_t)total;
}

static void *producer(void *arg)
{
	struct slot *s = arg;
	struct dev *d = s->dev;
	uint64_t iv = (uint64_t)s->iv.num * 1000000000ull / s->iv.den;
	uint64_t next = now_ns(CLOCK_MONOTONIC);
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!s->stop && !d->unplugged && s->gen == d->gen) {
			uint64_t now = now_ns(CLOCK_MONOTONIC);
			if (now >= next)
				break;
			struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
			pthread_cond_timedwait(&d->cond, &d->lock, &ts);
		}
		if (s->stop || d->unplugged || s->gen != d->gen)
			break;
		uint32_t seq = s->seq++;
		if (s->qn) {
			int bi = s->q[s->qh];
			s->qh = (s->qh + 1) % MAXBUF;
			s->qn--;
			struct buf *b = &s->bufs[bi];
			b->state = B_FILLING;
			struct timespec mono;
			clock_gettime(CLOCK_MONOTONIC, &mono);
			uint32_t flags = 0;
			uint64_t jidx = s->jpegidx++;
			pthread_mutex_unlock(&d->lock);
			uint32_t used;
			if (s->fourcc == V4L2_PIX_FMT_MJPEG) {
				used = fill_mjpeg(s->base + b->off, s->sizeimage, jidx, seq, &flags);
			} else {
				fill_yuyv(s->base + b->off, s->w, s->h, seq);
				used = s->w * s->h * 2;
			}
			pthread_mutex_lock(&d->lock);
			b->bytesused = used;
			b->seq = seq;
			b->flags = flags;
			b->ts.tv_sec = mono.tv_sec;
			b->ts.tv_usec = mono.tv_nsec / 1000;
			b->state = B_DONE;
			s->d[(s->dh + s->dn) % MAXBUF] = bi;
			s->dn++;
			wake_fd(s, 1);
			pthread_cond_broadcast(&d->cond);
		} else {
			LOG("frame %u dropped: no buffer queued\n", seq);
		}
		next += iv;
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (now > next + iv) { /* hopelessly late (stopped debugger?): skip slots */
			uint64_t miss = (now - next) / iv;
			next += miss * iv;
			s->seq += (uint32_t)miss;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* With d->lock held; drops it while joining. */
static void stream_stop(struct slot *s)
{
	struct dev *d = s->dev;
	if (s->thr_alive) {
		s->stop = 1;
		pthread_cond_broadcast(&d->cond);
		pthread_t t = s->thr;
		s->thr_alive = 0;
		pthread_mutex_unlock(&d->lock);
		pthread_join(t, NULL);
		pthread_mutex_lock(&d->lock);
	}
	/* Consume exactly what the producer signalled; never block on the fd. */
	for (int i = 0; i < s->dn; i++) {
		uint64_t v;
		if (read(s->fd, &v, sizeof v) < 0)
			break;
	}
	s->streaming = 0;
	s->stop = 0;
	s->qn = s->qh = s->dn = s->dh = 0;
	for (int i = 0; i < s->nbufs; i++)
		s->bufs[i].state = B_DEQ;
	pthread_cond_broadcast(&d->cond);
}

static void bufs_free(struct slot *s)
{
	if (s->base)
		real_munmap(s->base, s->total);
	if (s->memfd >= 0)
		real_close(s->memfd);
	s->base = NULL;
	s->memfd = -1;
	s->nbufs = 0;
	s->total = 0;
	s->allocgen++;
}

static int bufs_alloc(struct slot *s, int n, uint32_t len)
{
	size_t al = (len + cfg.pagesz - 1) & ~(cfg.pagesz - 1);
	int mfd = memfd_create("fakecam", MFD_CLOEXEC);
	if (mfd < 0)
		return ENOMEM;
	if (ftruncate(mfd, al * n)) {
		real_close(mfd);
		return ENOMEM;
	}
	void *p = real_mmap(NULL, al * n, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (p == MAP_FAILED) {
		real_close(mfd);
		return ENOMEM;
	}
	s->memfd = mfd;
	s->base = p;
	s->total = al * n;
	s->nbufs = n;
	for (int i = 0; i < n; i++) {
		memset(&s->bufs[i], 0, sizeof s->bufs[i]);
		s->bufs[i].off = al * i;
		s->bufs[i].len = len;
	}
	return 0;
}

/* ------------------------------------------------------------------- ioctls */

static const struct ctrldef *find_ctrl(uint32_t id, int *idx)
{
	for (int i = 0; i < NCTRL; i++)
		if (ctrls[i].id == id) {
			*idx = i;
			return &ctrls[i];
		}
	return NULL;
}

static const struct ctrldef *next_ctrl(uint32_t id, int *idx)
{
	for (int i = 0; i < NCTRL; i++)
		if (ctrls[i].id > id) {
			*idx = i;
			return &ctrls[i];
		}
	return NULL;
}

static uint32_t ctrl_flags(struct dev *d, int i)
{
	uint32_t f = ctrls[i].flags;
	int k;
	if (ctrls[i].id == V4L2_CID_WHITE_BALANCE_TEMPERATURE && find_ctrl(V4L2_CID_AUTO_WHITE_BALANCE, &k) &&
	    d->ctl[k])
		f |= V4L2_CTRL_FLAG_INACTIVE;
	if (ctrls[i].id == V4L2_CID_EXPOSURE_ABSOLUTE && find_ctrl(V4L2_CID_EXPOSURE_AUTO, &k) &&
	    d->ctl[k] != V4L2_EXPOSURE_MANUAL && d->ctl[k] != V4L2_EXPOSURE_SHUTTER_PRIORITY)
		f |= V4L2_CTRL_FLAG_INACTIVE;
	return f;
}

static const struct ctrldef *lookup_q(struct dev *d, uint32_t id, int *idx, uint32_t *flags)
{
	const struct ctrldef *c;
	uint32_t base = id & ~(V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);
	if (id & (V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND)) {
		/* All our controls are simple, so only NEXT_CTRL finds anything. */
		if (!(id & V4L2_CTRL_FLAG_NEXT_CTRL))
			return NULL;
		c = next_ctrl(base, idx);
	} else {
		c = find_ctrl(base, idx);
	}
	if (c)
		*flags = ctrl_flags(d, *idx);
	return c;
}

static int ctrl_set(struct dev *d, uint32_t id, int32_t *val, int apply)
{
	int i;
	const struct ctrldef *c = find_ctrl(id, &i);
	if (!c)
		return EINVAL;
	if (c->type == V4L2_CTRL_TYPE_CTRL_CLASS)
		return EACCES;
	int32_t v = *val;
	if (v < c->min || v > c->max)
		return ERANGE;
	if (c->type == V4L2_CTRL_TYPE_MENU && (c->skip >> v) & 1)
		return EINVAL;
	if (c->type == V4L2_CTRL_TYPE_INTEGER && c->step > 1) {
		v = c->min + ((v - c->min + c->step / 2) / c->step) * c->step;
		if (v > c->max)
			v -= c->step;
		*val = v;
	}
	if (apply)
		d->ctl[i] = v;
	return 0;
}

static int find_fmt(uint32_t fourcc)
{
	for (int i = 0; i < cfg.nfmt; i++)
		if (cfg.fmt[i].fourcc == fourcc)
			return i;
	return -1;
}

/* The uvcvideo distance: penalise both missing and surplus area. */
static int nearest_size(const struct fmtinfo *f, uint32_t w, uint32_t h)
{
	int best = 0;
	uint64_t bd = UINT64_MAX;
	for (int i = 0; i < f->nsizes; i++) {
		uint64_t fw = f->sizes[i].w, fh = f->sizes[i].h;
		uint64_t m = (uint64_t)(w < fw ? w : fw) * (h < fh ? h : fh);
		uint64_t dd = (uint64_t)w * h + fw * fh - 2 * m;
		if (dd < bd) {
			bd = dd;
			best = i;
		}
	}
	return best;
}

static int nearest_ival(uint32_t num, uint32_t den)
{
	if (!num || !den)
		return 0;
	double want = (double)num / den, bd = 1e300;
	int best = 0;
	for (int i = 0; i < cfg.nival; i++) {
		double dd = (double)cfg.ival[i].num / cfg.ival[i].den - want;
		if (dd < 0)
			dd = -dd;
		if (dd < bd) {
			bd = dd;
			best = i;
		}
	}
	return best;
}

static void fill_pix(struct v4l2_pix_format *p, uint32_t fourcc, uint32_t w, uint32_t h)
{
	memset(p, 0, sizeof *p);
	p->width = w;
	p->height = h;
	p->pixelformat = fourcc;
	p->field = V4L2_FIELD_NONE;
	p->bytesperline = fourcc == V4L2_PIX_FMT_YUYV ? w * 2 : 0;
	p->sizeimage = sizeimage_for(fourcc, w, h);
	p->colorspace = V4L2_COLORSPACE_SRGB;
	p->priv = V4L2_PIX_FMT_PRIV_MAGIC;
	p->xfer_func = V4L2_XFER_FUNC_SRGB;
	p->ycbcr_enc = V4L2_YCBCR_ENC_601;
	p->quantization = V4L2_QUANTIZATION_DEFAULT;
}

static void fill_buf(struct slot *s, int i, struct v4l2_buffer *vb)
{
	struct buf *b = &s->bufs[i];
	memset(vb, 0, sizeof *vb);
	vb->index = i;
	vb->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	vb->memory = V4L2_MEMORY_MMAP;
	vb->m.offset = (uint32_t)b->off;
	vb->length = (uint32_t)b->len;
	vb->field = V4L2_FIELD_NONE;
	vb->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_TSTAMP_SRC_SOE;
	if (b->maps > 0)
		vb->flags |= V4L2_BUF_FLAG_MAPPED;
	if (b->state == B_QUEUED || b->state == B_FILLING)
		vb->flags |= V4L2_BUF_FLAG_QUEUED;
	if (b->state == B_DONE)
		vb->flags |= V4L2_BUF_FLAG_DONE;
	if (b->state == B_DONE || b->state == B_DEQ) {
		vb->bytesused = b->bytesused;
		vb->sequence = b->seq;
		vb->timestamp = b->ts;
		vb->flags |= b->flags;
	}
}

static int fd_nonblocking(int fd)
{
	int fl = real_fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_NONBLOCK);
}

#define CAPTYPE(t) ((t) == V4L2_BUF_TYPE_VIDEO_CAPTURE)

/* With d->lock held.  Returns 0 or an errno value. */
static int do_ioctl(struct slot *s, unsigned req, void *arg)
{
	struct dev *d = s->dev;
	if (!arg && _IOC_SIZE(req) && _IOC_TYPE(req) == 'V')
		return EFAULT;
	if (d->unplugged || s->gen != d->gen)
		return ENODEV;
	const struct fmtinfo *cf = &cfg.fmt[d->fmt];

	switch (req) {
	case VIDIOC_QUERYCAP: {
		struct v4l2_capability *c = arg;
		memset(c, 0, sizeof *c);
		snprintf((char *)c->driver, sizeof c->driver, "uvcvideo");
		snprintf((char *)c->card, sizeof c->card, "%s", cfg.card);
		snprintf((char *)c->bus_info, sizeof c->bus_info, "usb-fake-%d", d->idx + 1);
		c->version = cfg.kver;
		c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT;
		c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
		return 0;
	}
	case VIDIOC_ENUM_FMT: {
		struct v4l2_fmtdesc *f = arg;
		if (!CAPTYPE(f->type) || f->index >= (uint32_t)cfg.nfmt)
			return EINVAL;
		uint32_t idx = f->index, type = f->type;
		memset(f, 0, sizeof *f);
		f->index = idx;
		f->type = type;
		f->pixelformat = cfg.fmt[idx].fourcc;
		if (f->pixelformat == V4L2_PIX_FMT_MJPEG) {
			f->flags = V4L2_FMT_FLAG_COMPRESSED;
			snprintf((char *)f->description, sizeof f->description, "Motion-JPEG");
		} else {
			snprintf((char *)f->description, sizeof f->description, "YUYV 4:2:2");
		}
		return 0;
	}
	case VIDIOC_ENUM_FRAMESIZES: {
		struct v4l2_frmsizeenum *f = arg;
		int fi = find_fmt(f->pixel_format);
		if (fi < 0 || f->index >= (uint32_t)cfg.fmt[fi].nsizes)
			return EINVAL;
		uint32_t idx = f->index, pf = f->pixel_format;
		memset(f, 0, sizeof *f);
		f->index = idx;
		f->pixel_format = pf;
		f->type = V4L2_FRMSIZE_TYPE_DISCRETE;
		f->discrete.width = cfg.fmt[fi].sizes[idx].w;
		f->discrete.height = cfg.fmt[fi].sizes[idx].h;
		return 0;
	}
	case VIDIOC_ENUM_FRAMEINTERVALS: {
		struct v4l2_frmivalenum *f = arg;
		int fi = find_fmt(f->pixel_format), ok = 0;
		if (fi < 0 || f->index >= (uint32_t)cfg.nival)
			return EINVAL;
		for (int i = 0; i < cfg.fmt[fi].nsizes; i++)
			if (cfg.fmt[fi].sizes[i].w == f->width && cfg.fmt[fi].sizes[i].h == f->height)
				ok = 1;
		if (!ok)
			return EINVAL;
		uint32_t idx = f->index, pf = f->pixel_format, w = f->width, h = f->height;
		memset(f, 0, sizeof *f);
		f->index = idx;
		f->pixel_format = pf;
		f->width = w;
		f->height = h;
		f->type = V4L2_FRMIVAL_TYPE_DISCRETE;
		f->discrete.numerator = cfg.ival[idx].num;
		f->discrete.denominator = cfg.ival[idx].den;
		return 0;
	}
	case VIDIOC_G_FMT: {
		struct v4l2_format *f = arg;
		if (!CAPTYPE(f->type))
			return EINVAL;
		fill_pix(&f->fmt.pix, cf->fourcc, d->w, d->h);
		return 0;
	}
	case VIDIOC_TRY_FMT:
	case VIDIOC_S_FMT: {
		struct v4l2_format *f = arg;
		if (!CAPTYPE(f->type))
			return EINVAL;
		int fi = find_fmt(f->fmt.pix.pixelformat);
		if (fi < 0)
			fi = 0; /* uvcvideo falls back to the first format */
		int si = nearest_size(&cfg.fmt[fi], f->fmt.pix.width, f->fmt.pix.height);
		uint32_t w = cfg.fmt[fi].sizes[si].w, h = cfg.fmt[fi].sizes[si].h;
		if (req == VIDIOC_S_FMT) {
			if (d->owner && (d->owner != s || s->nbufs))
				return EBUSY;
			d->fmt = fi;
			d->w = w;
			d->h = h;
		}
		fill_pix(&f->fmt.pix, cfg.fmt[fi].fourcc, w, h);
		return 0;
	}
	case VIDIOC_G_PARM:
	case VIDIOC_S_PARM: {
		struct v4l2_streamparm *p = arg;
		if (!CAPTYPE(p->type))
			return EINVAL;
		if (req == VIDIOC_S_PARM) {
			if (d->owner && d->owner->streaming)
				return EBUSY;
			d->ival = nearest_ival(p->parm.capture.timeperframe.numerator,
					       p->parm.capture.timeperframe.denominator);
		}
		memset(&p->parm, 0, sizeof p->parm);
		p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
		p->parm.capture.timeperframe.numerator = cfg.ival[d->ival].num;
		p->parm.capture.timeperframe.denominator = cfg.ival[d->ival].den;
		return 0;
	}
	case VIDIOC_REQBUFS: {
		struct v4l2_requestbuffers *r = arg;
		if (!CAPTYPE(r->type) || r->memory != V4L2_MEMORY_MMAP)
			return EINVAL;
		if (d->owner && d->owner != s)
			return EBUSY;
		if (s->streaming)
			return EBUSY;
		r->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
		memset(r->reserved, 0, sizeof r->reserved);
		bufs_free(s);
		if (r->count == 0) {
			d->owner = NULL;
			return 0;
		}
		uint32_t n = r->count < 2 ? 2 : r->count > MAXBUF ? MAXBUF : r->count;
		s->fourcc = cf->fourcc;
		s->w = d->w;
		s->h = d->h;
		s->sizeimage = sizeimage_for(cf->fourcc, d->w, d->h);
		int e = bufs_alloc(s, (int)n, s->sizeimage);
		if (e)
			return e;
		d->owner = s;
		r->count = n;
		return 0;
	}
	case VIDIOC_QUERYBUF: {
		struct v4l2_buffer *b = arg;
		struct slot *o = d->owner ? d->owner : s;
		if (!CAPTYPE(b->type) || b->index >= (uint32_t)o->nbufs)
			return EINVAL;
		fill_buf(o, (int)b->index, b);
		return 0;
	}
	case VIDIOC_QBUF: {
		struct v4l2_buffer *b = arg;
		if (d->owner != s)
			return d->owner ? EBUSY : EINVAL;
		if (!CAPTYPE(b->type) || b->memory != V4L2_MEMORY_MMAP || b->index >= (uint32_t)s->nbufs ||
		    s->bufs[b->index].state != B_DEQ)
			return EINVAL;
		s->bufs[b->index].state = B_QUEUED;
		s->q[(s->qh + s->qn) % MAXBUF] = (int)b->index;
		s->qn++;
		fill_buf(s, (int)b->index, b);
		return 0;
	}
	case VIDIOC_DQBUF: {
		struct v4l2_buffer *b = arg;
		if (d->owner != s)
			return d->owner ? EBUSY : EINVAL;
		if (!CAPTYPE(b->type) || b->memory != V4L2_MEMORY_MMAP)
			return EINVAL;
		while (!s->dn) {
			if (!s->streaming)
				return EINVAL;
			if (fd_nonblocking(s->fd))
				return EAGAIN;
			pthread_cond_wait(&d->cond, &d->lock);
			if (d->unplugged || s->gen != d->gen)
				return ENODEV;
			if (!s->used || d->owner != s)
				return EINVAL;
		}
		int bi = s->d[s->dh];
		uint64_t v;
		if (read(s->fd, &v, sizeof v) < 0) {
		}
		s->dh = (s->dh + 1) % MAXBUF;
		s->dn--;
		s->bufs[bi].state = B_DEQ;
		fill_buf(s, bi, b);
		d->delivered++;
		if (cfg.unplug_after && d->delivered >= cfg.unplug_after && (d->unplugs == 0 || cfg.unplug_repeat))
			unplug(d);
		return 0;
	}
	case VIDIOC_STREAMON: {
		int *t = arg;
		if (!CAPTYPE((uint32_t)*t))
			return EINVAL;
		if (d->owner != s || !s->nbufs)
			return d->owner && d->owner != s ? EBUSY : EINVAL;
		if (s->streaming)
			return 0;
		s->streaming = 1;
		s->stop = 0;
		s->seq = 0;
		s->jpegidx = 0;
		s->iv = cfg.ival[d->ival];
		if (pthread_create(&s->thr, NULL, producer, s)) {
			s->streaming = 0;
			return ENOMEM;
		}
		s->thr_alive = 1;
		return 0;
	}
	case VIDIOC_STREAMOFF: {
		int *t = arg;
		if (!CAPTYPE((uint32_t)*t))
			return EINVAL;
		if (d->owner && d->owner != s)
			return EBUSY;
		stream_stop(s);
		return 0;
	}
	case VIDIOC_ENUMINPUT: {
		struct v4l2_input *in = arg;
		if (in->index != 0)
			return EINVAL;
		memset(in, 0, sizeof *in);
		snprintf((char *)in->name, sizeof in->name, "Camera 1");
		in->type = V4L2_INPUT_TYPE_CAMERA;
		return 0;
	}
	case VIDIOC_G_INPUT:
		*(int *)arg = 0;
		return 0;
	case VIDIOC_S_INPUT:
		return *(int *)arg == 0 ? 0 : EINVAL;
	case VIDIOC_G_PRIORITY:
		*(uint32_t *)arg = V4L2_PRIORITY_DEFAULT;
		return 0;
	case VIDIOC_S_PRIORITY: {
		uint32_t p = *(uint32_t *)arg;
		return p <= V4L2_PRIORITY_RECORD ? 0 : EINVAL;
	}
	case VIDIOC_QUERYCTRL: {
		struct v4l2_queryctrl *q = arg;
		int i;
		uint32_t fl;
		const struct ctrldef *c = lookup_q(d, q->id, &i, &fl);
		if (!c)
			return EINVAL;
		memset(q, 0, sizeof *q);
		q->id = c->id;
		q->type = c->type;
		snprintf((char *)q->name, sizeof q->name, "%s", c->name);
		q->minimum = c->min;
		q->maximum = c->max;
		q->step = c->step;
		q->default_value = c->def;
		q->flags = fl;
		return 0;
	}
	case VIDIOC_QUERY_EXT_CTRL: {
		struct v4l2_query_ext_ctrl *q = arg;
		int i;
		uint32_t fl;
		const struct ctrldef *c = lookup_q(d, q->id, &i, &fl);
		if (!c)
			return EINVAL;
		memset(q, 0, sizeof *q);
		q->id = c->id;
		q->type = c->type;
		snprintf(q->name, sizeof q->name, "%s", c->name);
		q->minimum = c->min;
		q->maximum = c->max;
		q->step = (uint64_t)c->step;
		q->default_value = c->def;
		q->flags = fl;
		q->elem_size = c->type == V4L2_CTRL_TYPE_CTRL_CLASS ? 0 : 4;
		q->elems = 1;
		return 0;
	}
	case VIDIOC_QUERYMENU: {
		struct v4l2_querymenu *m = arg;
		int i;
		const struct ctrldef *c = find_ctrl(m->id, &i);
		if (!c || c->type != V4L2_CTRL_TYPE_MENU || m->index < (uint32_t)c->min ||
		    m->index > (uint32_t)c->max || (c->skip >> m->index) & 1)
			return EINVAL;
		uint32_t id = m->id, idx = m->index;
		memset(m, 0, sizeof *m);
		m->id = id;
		m->index = idx;
		snprintf((char *)m->name, sizeof m->name, "%s", c->menu[idx]);
		return 0;
	}
	case VIDIOC_G_CTRL: {
		struct v4l2_control *c = arg;
		int i;
		const struct ctrldef *cd = find_ctrl(c->id, &i);
		if (!cd)
			return EINVAL;
		if (cd->flags & V4L2_CTRL_FLAG_WRITE_ONLY)
			return EACCES;
		c->value = d->ctl[i];
		return 0;
	}
	case VIDIOC_S_CTRL: {
		struct v4l2_control *c = arg;
		return ctrl_set(d, c->id, &c->value, 1);
	}
	case VIDIOC_G_EXT_CTRLS:
	case VIDIOC_S_EXT_CTRLS:
	case VIDIOC_TRY_EXT_CTRLS: {
		struct v4l2_ext_controls *e = arg;
		uint32_t which = e->which;
		int def = which == V4L2_CTRL_WHICH_DEF_VAL;
		if (which == V4L2_CTRL_WHICH_REQUEST_VAL || (def && req != VIDIOC_G_EXT_CTRLS))
			return EINVAL;
		if (e->count > 1024 || (e->count && !e->controls)) {
			e->error_idx = e->count;
			return e->count > 1024 ? ENOMEM : EFAULT;
		}
		/* Validate everything first so a failed S_EXT_CTRLS changes nothing. */
		for (uint32_t k = 0; k < e->count; k++) {
			struct v4l2_ext_control *x = &e->controls[k];
			int i;
			const struct ctrldef *c = find_ctrl(x->id, &i);
			if (!c || (which && !def && V4L2_CTRL_ID2WHICH(x->id) != which)) {
				e->error_idx = req == VIDIOC_S_EXT_CTRLS ? e->count : k;
				return EINVAL;
			}
			if (req == VIDIOC_G_EXT_CTRLS) {
				if (c->flags & V4L2_CTRL_FLAG_WRITE_ONLY) {
					e->error_idx = k;
					return EACCES;
				}
				continue;
			}
			int32_t v = x->value;
			int r = ctrl_set(d, x->id, &v, 0);
			if (r) {
				e->error_idx = k;
				return r;
			}
		}
		for (uint32_t k = 0; k < e->count; k++) {
			struct v4l2_ext_control *x = &e->controls[k];
			int i = 0;
			find_ctrl(x->id, &i);
			if (req == VIDIOC_G_EXT_CTRLS)
				x->value = def ? ctrls[i].def : d->ctl[i];
			else {
				int32_t v = x->value;
				ctrl_set(d, x->id, &v, req == VIDIOC_S_EXT_CTRLS);
				x->value = v;
			}
		}
		return 0;
	}
	case VIDIOC_SUBSCRIBE_EVENT: {
		struct v4l2_event_subscription *ev = arg;
		return ev->type == V4L2_EVENT_CTRL ? 0 : EINVAL;
	}
	case VIDIOC_UNSUBSCRIBE_EVENT:
		return 0;
	case VIDIOC_DQEVENT:
		return ENOENT;
	default:
		return ENOTTY;
	}
}

static const char *ioctl_name(unsigned req)
{
#define N(x) case x: return #x;
	switch (req) {
	N(VIDIOC_QUERYCAP) N(VIDIOC_ENUM_FMT) N(VIDIOC_ENUM_FRAMESIZES) N(VIDIOC_ENUM_FRAMEINTERVALS)
	N(VIDIOC_G_FMT) N(VIDIOC_S_FMT) N(VIDIOC_TRY_FMT) N(VIDIOC_G_PARM) N(VIDIOC_S_PARM)
	N(VIDIOC_REQBUFS) N(VIDIOC_QUERYBUF) N(VIDIOC_QBUF) N(VIDIOC_DQBUF) N(VIDIOC_STREAMON)
	N(VIDIOC_STREAMOFF) N(VIDIOC_ENUMINPUT) N(VIDIOC_G_INPUT) N(VIDIOC_S_INPUT) N(VIDIOC_QUERYCTRL)
	N(VIDIOC_QUERY_EXT_CTRL) N(VIDIOC_QUERYMENU) N(VIDIOC_G_CTRL) N(VIDIOC_S_CTRL)
	N(VIDIOC_G_EXT_CTRLS) N(VIDIOC_S_EXT_CTRLS) N(VIDIOC_TRY_EXT_CTRLS) N(VIDIOC_G_PRIORITY)
	N(VIDIOC_S_PRIORITY) N(VIDIOC_SUBSCRIBE_EVENT) N(VIDIOC_UNSUBSCRIBE_EVENT) N(VIDIOC_DQEVENT)
	default: return NULL;
	}
#undef N
}

static int fake_present(const char *path);

static struct slot *lookup(int fd)
{
	if (fd < 0 || fd >= FDTAB)
		return NULL;
	uint8_t v = __atomic_load_n(&fdtab[fd], __ATOMIC_ACQUIRE);
	return v ? &slots[v - 1] : NULL;
}

/* ------------------------------------------------------------ open / close */

static int fake_open(int di, int flags)
{
	struct dev *d = &devs[di];
	pthread_mutex_lock(&glock);
	load_jpegs();
	pthread_mutex_unlock(&glock);
	if (cfg.busy) {
		errno = EBUSY;
		return -1;
	}
	pthread_mutex_lock(&d->lock);
	if (!d->inited)
		dev_reset(d);
	if (dev_absent(d)) {
		pthread_mutex_unlock(&d->lock);
		errno = ENOENT;
		return -1;
	}
	int fd = eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE | ((flags & O_NONBLOCK) ? EFD_NONBLOCK : 0));
	if (fd < 0) {
		pthread_mutex_unlock(&d->lock);
		return -1;
	}
	if (fd >= FDTAB) {
		pthread_mutex_unlock(&d->lock);
		real_close(fd);
		errno = EMFILE;
		return -1;
	}
	pthread_mutex_lock(&glock);
	struct slot *s = NULL;
	int si;
	for (si = 0; si < MAXSLOTS; si++)
		if (!slots[si].used) {
			s = &slots[si];
			break;
		}
	if (!s) {
		pthread_mutex_unlock(&glock);
		pthread_mutex_unlock(&d->lock);
		real_close(fd);
		errno = EMFILE;
		return -1;
	}
	unsigned ag = s->allocgen;
	memset(s, 0, sizeof *s);
	s->allocgen = ag + 1;
	s->used = 1;
	s->fd = fd;
	s->dev = d;
	s->gen = d->gen;
	s->memfd = -1;
	for (int i = 0; i < MAXSLOTS; i++)
		if (!d->fds[i]) {
			d->fds[i] = s;
			break;
		}
	__atomic_store_n(&fdtab[fd], (uint8_t)(si + 1), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&glock);
	pthread_mutex_unlock(&d->lock);
	LOG("open %s -> fd %d%s\n", cfg.dev[di], fd, (flags & O_NONBLOCK) ? " (nonblocking)" : "");
	return fd;
}

static void fake_close(struct slot *s, int fd)
{
	struct dev *d = s->dev;
	pthread_mutex_lock(&d->lock);
	if (s->used && s->fd == fd) {
		__atomic_store_n(&fdtab[fd], 0, __ATOMIC_RELEASE);
		stream_stop(s);
		bufs_free(s);
		if (d->owner == s)
			d->owner = NULL;
		for (int i = 0; i < MAXSLOTS; i++)
			if (d->fds[i] == s)
				d->fds[i] = NULL;
		pthread_mutex_lock(&glock);
		s->used = 0;
		pthread_mutex_unlock(&glock);
		pthread_cond_broadcast(&d->cond);
		LOG("close fd %d\n", fd);
	}
	pthread_mutex_unlock(&d->lock);
}

/* v4l-utils identify a node by reading /sys/dev/char/<maj>:<min>/uevent for
 * the st_rdev that stat() reported, so serve that file too. */
#define FAKE_MAJOR 81
static int uevent_fd(const char *path)
{
	static const char pre[] = "/sys/dev/char/81:";
	if (!path || strncmp(path, pre, sizeof pre - 1))
		return -1;
	char *end;
	long mi = strtol(path + sizeof pre - 1, &end, 10);
	if (end == path + sizeof pre - 1 || strcmp(end, "/uevent") || mi < 0 || mi >= cfg.ndev ||
	    fake_present(cfg.dev[mi]) <= 0)
		return -1;
	const char *base = strrchr(cfg.dev[mi], '/');
	base = base ? base + 1 : cfg.dev[mi];
	char txt[300];
	int n;
	if (!strncmp(base, "video", 5) && base[5] >= '0' && base[5] <= '9')
		n = snprintf(txt, sizeof txt, "MAJOR=%d\nMINOR=%ld\nDEVNAME=%s\n", FAKE_MAJOR, mi, base);
	else
		n = snprintf(txt, sizeof txt, "MAJOR=%d\nMINOR=%ld\nDEVNAME=video%ld\n", FAKE_MAJOR, mi, mi);
	int fd = memfd_create("uevent", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, txt, n) != n || lseek(fd, 0, SEEK_SET) != 0) {
		real_close(fd);
		return -1;
	}
	return fd;
}

static FILE *fopen_common(const char *path, const char *mode, int large)
{
	init();
	FILE *(*real)(const char *, const char *) = large && real_fopen64 ? real_fopen64 : real_fopen;
	if (mode && mode[0] == 'r') {
		int fd = uevent_fd(path);
		if (fd >= 0) {
			FILE *f = fdopen(fd, "r");
			if (!f)
				real_close(fd);
			return f;
		}
	}
	return real(path, mode);
}

EXPORT FILE *fopen(const char *restrict path, const char *restrict mode)
{
	return fopen_common(path, mode, 0);
}
EXPORT FILE *fopen64(const char *restrict path, const char *restrict mode)
{
	return fopen_common(path, mode, 1);
}

static int want_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

EXPORT int open(const char *path, int flags, ...)
{
	init();
	mode_t mode = 0;
	if (want_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	int di = dev_index(path);
	if (di >= 0)
		return fake_open(di, flags);
	int u = uevent_fd(path);
	if (u >= 0)
		return u;
	return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	init();
	mode_t mode = 0;
	if (want_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	int di = dev_index(path);
	if (di >= 0)
		return fake_open(di, flags);
	int u = uevent_fd(path);
	if (u >= 0)
		return u;
	return real_open(path, flags | O_LARGEFILE, mode);
}

/* Relative names resolve against dirfd, so they only match from the cwd. */
static int dev_index_at(int dirfd, const char *path)
{
	int di = dev_index(path);
	return di >= 0 && (dirfd == AT_FDCWD || path[0] == '/') ? di : -1;
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int di = dev_index_at(dirfd, path);
	if (di >= 0)
		return fake_open(di, flags);
	return real_openat(dirfd, path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	init();
	mode_t mode = 0;
	if (want_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return do_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	init();
	mode_t mode = 0;
	if (want_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return do_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

/* Fortified builds call these when the flags are not a compile-time constant. */
EXPORT int __open_2(const char *path, int flags) { return open(path, flags); }
EXPORT int __open64_2(const char *path, int flags) { return open64(path, flags); }
EXPORT int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
EXPORT int __openat64_2(int dirfd, const char *path, int flags) { return openat64(dirfd, path, flags); }

EXPORT int close(int fd)
{
	init();
	struct slot *s = lookup(fd);
	if (s)
		fake_close(s, fd);
	return real_close(fd);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	init();
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	struct slot *s = lookup(fd);
	if (!s)
		return real_ioctl(fd, req, arg);
	struct dev *d = s->dev;
	int r;
	pthread_mutex_lock(&d->lock);
	if (!s->used || s->fd != fd || s->dev != d)
		r = EBADF;
	else
		r = do_ioctl(s, (unsigned)req, arg);
	pthread_mutex_unlock(&d->lock);
	if (cfg.log) {
		const char *n = ioctl_name((unsigned)req);
		if (n)
			logf_("fakecam: fd %d %s -> %s\n", fd, n, r ? strerror(r) : "ok");
		else
			logf_("fakecam: fd %d ioctl 0x%08x -> %s\n", fd, (unsigned)req, r ? strerror(r) : "ok");
	}
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ select */

/*
 * An eventfd is always writable, a V4L2 capture queue never is: uvcvideo's poll
 * reports only readable. Clients that select for writing too (µStreamer) take a
 * writable camera fd for an unplugged device, so never ask the kernel about it.
 */
static void drop_camera_writes(int nfds, fd_set *w)
{
	if (!w)
		return;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (FD_ISSET(fd, w) && lookup(fd))
			FD_CLR(fd, w);
}

EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	init();
	drop_camera_writes(nfds, w);
	return real_select(nfds, r, w, e, tv);
}

EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts, const sigset_t *mask)
{
	init();
	drop_camera_writes(nfds, w);
	return real_pselect(nfds, r, w, e, ts, mask);
}

/* ------------------------------------------------------------ mmap/munmap */

static void *fake_mmap(struct slot *caller, void *addr, size_t len, int prot, int flags, off_t off)
{
	struct dev *d = caller->dev;
	pthread_mutex_lock(&d->lock);
	struct slot *s = d->owner;
	int e = 0, bi = -1;
	if (d->unplugged || caller->gen != d->gen)
		e = ENODEV;
	else if (!s || !(flags & MAP_SHARED))
		e = EINVAL;
	else {
		for (int i = 0; i < s->nbufs; i++)
			if (s->bufs[i].off == (size_t)off)
				bi = i;
		size_t al = bi < 0 ? 0 : (s->bufs[bi].len + cfg.pagesz - 1) & ~(cfg.pagesz - 1);
		if (bi < 0 || len == 0 || len > al)
			e = EINVAL;
	}
	void *p = MAP_FAILED;
	if (!e) {
		p = real_mmap(addr, len, prot, flags, s->memfd, off);
		if (p == MAP_FAILED) {
			e = errno;
		} else {
			s->bufs[bi].maps++;
			pthread_mutex_lock(&maplock);
			for (int i = 0; i < MAXMAPS; i++)
				if (!maps[i].addr) {
					maps[i] = (struct map){ p, len, s, s->allocgen, bi };
					__atomic_add_fetch(&nmaps_live, 1, __ATOMIC_RELEASE);
					break;
				}
			pthread_mutex_unlock(&maplock);
		}
	}
	pthread_mutex_unlock(&d->lock);
	LOG("mmap fd %d offset %lld len %zu -> %s\n", caller->fd, (long long)off, len, e ? strerror(e) : "ok");
	if (e)
		errno = e;
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	init();
	struct slot *s = lookup(fd);
	if (s && s->used && s->fd == fd)
		return fake_mmap(s, addr, len, prot, flags, off);
	return real_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	init();
	if (__atomic_load_n(&nmaps_live, __ATOMIC_ACQUIRE)) {
		struct map m = { 0 };
		pthread_mutex_lock(&maplock);
		for (int i = 0; i < MAXMAPS; i++)
			if (maps[i].addr && (char *)maps[i].addr >= (char *)addr &&
			    (char *)maps[i].addr < (char *)addr + len) {
				m = maps[i];
				maps[i].addr = NULL;
				__atomic_sub_fetch(&nmaps_live, 1, __ATOMIC_RELEASE);
				break;
			}
		pthread_mutex_unlock(&maplock);
		if (m.addr) {
			struct dev *d = m.s->dev;
			pthread_mutex_lock(&d->lock);
			if (m.s->allocgen == m.allocgen && m.buf < m.s->nbufs && m.s->bufs[m.buf].maps > 0)
				m.s->bufs[m.buf].maps--;
			pthread_mutex_unlock(&d->lock);
		}
	}
	return real_munmap(addr, len);
}

/* ---------------------------------------------------------- access / stat */

/* 1 = fake and present, 0 = not ours, -1 = ours but unplugged */
static int fake_present(const char *path)
{
	int di = dev_index(path);
	if (di < 0)
		return 0;
	struct dev *d = &devs[di];
	pthread_mutex_lock(&glock);
	load_jpegs();
	pthread_mutex_unlock(&glock);
	pthread_mutex_lock(&d->lock);
	if (!d->inited)
		dev_reset(d);
	int absent = dev_absent(d);
	pthread_mutex_unlock(&d->lock);
	return absent ? -1 : 1;
}

static int fake_stat(int di, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_mode = S_IFCHR | 0660;
	st->st_nlink = 1;
	st->st_gid = 44; /* "video" on Debian */
	st->st_rdev = makedev(FAKE_MAJOR, di);
	st->st_blksize = 4096;
	st->st_dev = makedev(0, 5);
	st->st_ino = 1000 + di;
	clock_gettime(CLOCK_REALTIME, &st->st_mtim);
	st->st_atim = st->st_ctim = st->st_mtim;
	return 0;
}

static int stat_common(const char *path, struct stat *st, int follow, int dirfd, int flags, int at)
{
	init();
	int p = (!at || dev_index_at(dirfd, path) >= 0) ? fake_present(path) : 0;
	if (p > 0)
		return fake_stat(dev_index(path), st);
	if (p < 0) {
		errno = ENOENT;
		return -1;
	}
	if (at)
		return real_fstatat(dirfd, path, st, flags);
	return follow ? real_stat(path, st) : real_lstat(path, st);
}

EXPORT int stat(const char *restrict path, struct stat *restrict st) { return stat_common(path, st, 1, 0, 0, 0); }
EXPORT int lstat(const char *restrict path, struct stat *restrict st) { return stat_common(path, st, 0, 0, 0, 0); }
EXPORT int stat64(const char *restrict path, struct stat64 *restrict st)
{
	return stat_common(path, (struct stat *)st, 1, 0, 0, 0);
}
EXPORT int lstat64(const char *restrict path, struct stat64 *restrict st)
{
	return stat_common(path, (struct stat *)st, 0, 0, 0, 0);
}
EXPORT int fstatat(int dirfd, const char *restrict path, struct stat *restrict st, int flags)
{
	return stat_common(path, st, 1, dirfd, flags, 1);
}
EXPORT int fstatat64(int dirfd, const char *restrict path, struct stat64 *restrict st, int flags)
{
	return stat_common(path, (struct stat *)st, 1, dirfd, flags, 1);
}
/* Binaries built against glibc < 2.33 (e.g. the .NET runtime) call these. */
EXPORT int __xstat(int ver, const char *path, struct stat *st) { (void)ver; return stat(path, st); }
EXPORT int __xstat64(int ver, const char *path, struct stat64 *st) { (void)ver; return stat64(path, st); }
EXPORT int __lxstat(int ver, const char *path, struct stat *st) { (void)ver; return lstat(path, st); }
EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st) { (void)ver; return lstat64(path, st); }

EXPORT int access(const char *path, int mode)
{
	init();
	int p = fake_present(path);
	if (p > 0)
		return 0;
	if (p < 0) {
		errno = ENOENT;
		return -1;
	}
	return real_access(path, mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	init();
	int p = dev_index_at(dirfd, path) >= 0 ? fake_present(path) : 0;
	if (p > 0)
		return 0;
	if (p < 0) {
		errno = ENOENT;
		return -1;
	}
	return real_faccessat(dirfd, path, mode, flags);
}
