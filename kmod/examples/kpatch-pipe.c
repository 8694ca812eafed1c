// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-pipe.c - example patch module replacing fs/pipe.c's static pipe_read().
 *
 * The replacement is the 6.1 pipe_read() itself (CONFIG_WATCH_QUEUE is off in the
 * Debian config, so that part is left out), plus a call counter in
 * /sys/module/kpatch_pipe/parameters/calls that proves the copy is the one running.
 * Everything pipe_read() uses is either inline in headers (__pipe_lock is
 * mutex_lock on pipe->mutex, pipe_readable, pipe_buf_confirm/release) or exported
 * (copy_page_to_iter, kill_fasync, __wake_up_sync_key, touch_atime), which is what
 * lets a hand-written module carry an exact copy. This is the shape kpatch-build
 * output has: a full copy of the changed function, not a call back into the old one.
 *
 * It is the function a reader sleeps in (a `cat` on an empty pipe), so it is the
 * test of the stack check: enabling must be refused while such a reader exists.
 */
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pipe_fs_i.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include "kpatch-example.h"

#ifdef CONFIG_WATCH_QUEUE
#error "this copy of pipe_read() leaves out the CONFIG_WATCH_QUEUE code"
#endif

static unsigned long calls;
module_param(calls, ulong, 0444);
MODULE_PARM_DESC(calls, "reads served by the replacement (approximate)");

/* Done while waiting without holding the pipe lock - thus the READ_ONCE() */
static inline bool kpatch_pipe_readable(const struct pipe_inode_info *pipe)
{
	unsigned int head = READ_ONCE(pipe->head);
	unsigned int tail = READ_ONCE(pipe->tail);
	unsigned int writers = READ_ONCE(pipe->writers);

	return !pipe_empty(head, tail) || !writers;
}

static ssize_t kpatch_pipe_read(struct kiocb *iocb, struct iov_iter *to)
{
	size_t total_len = iov_iter_count(to);
	struct file *filp = iocb->ki_filp;
	struct pipe_inode_info *pipe = filp->private_data;
	bool was_full, wake_next_reader = false;
	ssize_t ret;

	data_race(calls++);
	if (unlikely(total_len == 0))
		return 0;

	ret = 0;
	mutex_lock(&pipe->mutex);
	was_full = pipe_full(pipe->head, pipe->tail, pipe->max_usage);
	for (;;) {
		unsigned int head = smp_load_acquire(&pipe->head);
		unsigned int tail = pipe->tail;
		unsigned int mask = pipe->ring_size - 1;

		if (!pipe_empty(head, tail)) {
			struct pipe_buffer *buf = &pipe->bufs[tail & mask];
			size_t chars = buf->len;
			size_t written;
			int error;

			if (chars > total_len) {
				if (buf->flags & PIPE_BUF_FLAG_WHOLE) {
					if (ret == 0)
						ret = -ENOBUFS;
					break;
				}
				chars = total_len;
			}

			error = pipe_buf_confirm(pipe, buf);
			if (error) {
				if (!ret)
					ret = error;
				break;
			}

			written = copy_page_to_iter(buf->page, buf->offset, chars, to);
			if (unlikely(written < chars)) {
				if (!ret)
					ret = -EFAULT;
				break;
			}
			ret += chars;
			buf->offset += chars;
			buf->len -= chars;

			if (buf->flags & PIPE_BUF_FLAG_PACKET) {
				total_len = chars;
				buf->len = 0;
			}

			if (!buf->len) {
				pipe_buf_release(pipe, buf);
				spin_lock_irq(&pipe->rd_wait.lock);
				tail++;
				pipe->tail = tail;
				spin_unlock_irq(&pipe->rd_wait.lock);
			}
			total_len -= chars;
			if (!total_len)
				break;
			if (!pipe_empty(head, tail))
				continue;
		}

		if (!pipe->writers)
			break;
		if (ret)
			break;
		if (filp->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		mutex_unlock(&pipe->mutex);

		if (unlikely(was_full))
			wake_up_interruptible_sync_poll(&pipe->wr_wait, EPOLLOUT | EPOLLWRNORM);
		kill_fasync(&pipe->fasync_writers, SIGIO, POLL_OUT);

		if (wait_event_interruptible_exclusive(pipe->rd_wait,
						       kpatch_pipe_readable(pipe)) < 0)
			return -ERESTARTSYS;

		mutex_lock(&pipe->mutex);
		was_full = pipe_full(pipe->head, pipe->tail, pipe->max_usage);
		wake_next_reader = true;
	}
	if (pipe_empty(pipe->head, pipe->tail))
		wake_next_reader = false;
	mutex_unlock(&pipe->mutex);

	if (was_full)
		wake_up_interruptible_sync_poll(&pipe->wr_wait, EPOLLOUT | EPOLLWRNORM);
	if (wake_next_reader)
		wake_up_interruptible_sync_poll(&pipe->rd_wait, EPOLLIN | EPOLLRDNORM);
	kill_fasync(&pipe->fasync_writers, SIGIO, POLL_OUT);
	if (ret > 0)
		file_accessed(filp);
	return ret;
}

static const struct kpatch_func_desc kpatch_pipe_funcs[] = {
	{ .old_name = "pipe_read", .new_func = kpatch_pipe_read },
};

KPATCH_EXAMPLE_PATCH(kpatch_pipe_funcs, "kpatch example: replace pipe_read with a counting copy");
