/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpatch-shadow.h - shadow variables for patch authors: new data attached to an
 * existing kernel object (a field the object's struct does not have), found by the
 * object's address and a number the patch chooses.
 *
 * A patch cannot change the layout of a structure that already has instances in
 * memory. Instead it attaches a shadow variable to each object that needs the new
 * field: kpatch_shadow_get_or_alloc(obj, ID, ...) where the new code first needs it,
 * kpatch_shadow_get(obj, ID) to read it, kpatch_shadow_free(obj, ID, ...) where the
 * object dies (in a patched release function). The variables live in the core module,
 * so they survive the patch module being replaced by a newer patch that uses the same
 * ID.
 *
 * Rule for unloading: free your variables in the patch's post-unpatch hook (see
 * kpatch.h: after the switch back none of your new code runs any more, so nothing
 * allocates again) with kpatch_shadow_free_all(ID, dtor); /sys/kernel/kpatch/
 * shadow_count shows how many shadow variables are alive, across all patches.
 *
 * Ownership and handover: an ID belongs to every patch module that uses it. A module
 * claims an ID at its first call with it (or up front with kpatch_shadow_claim()), and
 * kpatch_shadow_free_all() only drops the caller's claim while another module still
 * holds one: the variables are handed over, not freed. The upgrade flow: the newer
 * patch calls kpatch_shadow_claim(ID) in its pre-patch hook (so the handover does not
 * depend on its code having run yet), is loaded, then the older patch is unloaded; the
 * older one's post-unpatch free_all keeps the data, and the newer one's frees it at its
 * own unload. The destructor given by the last claimant runs on each variable.
 *
 * Lifetime of a pointer from get/alloc/get_or_alloc: valid until that object's
 * variable is freed by kpatch_shadow_free() (call it only where @obj dies, so nobody
 * else can be using it) or until the caller's own module calls
 * kpatch_shadow_free_all(ID). Other modules' free_all cannot free it meanwhile.
 * A claim is recorded for the module whose code called: a call the compiler made a
 * tail jump from a function called by vmlinux cannot be attributed and pins the ID
 * until the core unloads (the data leaks rather than being freed under a user).
 *
 * Context: every function may be called from any context in which an allocation with
 * the given GFP flags is allowed (GFP_ATOMIC: interrupts, spinlocks held); get,
 * free and free_all never sleep (kpatch_shadow_claim() may). The constructor and
 * destructor run under the core's shadow spinlock with interrupts off: they must not
 * sleep or call this API, except kpatch_shadow_get() of an id their module already
 * claimed (such a lookup takes no lock; a first use of an id takes it to claim).
 */
#ifndef _KPATCH_SHADOW_H_
#define _KPATCH_SHADOW_H_

#include <linux/gfp.h>
#include <linux/types.h>

/*
 * Initialises a new shadow variable before anyone else can see it: @shadow_data
 * (zeroed, @size bytes) for @obj, with @ctor_data as given to the alloc call. A
 * non-zero return cancels the allocation (the call returns NULL).
 */
typedef int (*kpatch_shadow_ctor_t)(void *obj, void *shadow_data, void *ctor_data);
/* Releases what @shadow_data points to (not @shadow_data itself) before it is freed. */
typedef void (*kpatch_shadow_dtor_t)(void *obj, void *shadow_data);

/*
 * The data of @obj's shadow variable @id, or NULL (also when the first call of a
 * module with @id finds no memory to record its claim).
 */
void *kpatch_shadow_get(void *obj, unsigned long id);

/*
 * Claims @id for the calling patch module before it uses it (see Ownership above):
 * call it from the pre-patch hook of a patch that takes over another patch's data.
 * 0 or -ENOMEM. Process context.
 */
int kpatch_shadow_claim(unsigned long id);

/*
 * Allocates @size zeroed bytes as @obj's shadow variable @id, runs @ctor (optional)
 * on them and returns them. NULL if @obj already has shadow variable @id (with a
 * warning: use kpatch_shadow_get_or_alloc() when that may happen), if the allocation
 * fails or if @ctor fails.
 */
void *kpatch_shadow_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp_flags,
			  kpatch_shadow_ctor_t ctor, void *ctor_data);

/*
 * Returns @obj's shadow variable @id, allocating and constructing it as
 * kpatch_shadow_alloc() does when there is none. When two callers race, both get the
 * same variable and @ctor runs once. NULL only if the allocation or @ctor fails.
 */
void *kpatch_shadow_get_or_alloc(void *obj, unsigned long id, size_t size,
				 gfp_t gfp_flags, kpatch_shadow_ctor_t ctor, void *ctor_data);

/* Frees @obj's shadow variable @id (calling @dtor first, when given), if it has one. */
void kpatch_shadow_free(void *obj, unsigned long id, kpatch_shadow_dtor_t dtor);

/*
 * Drops the calling module's claim on @id and, when no other module holds one, frees
 * shadow variable @id of every object (calling @dtor on each, when given).
 */
void kpatch_shadow_free_all(unsigned long id, kpatch_shadow_dtor_t dtor);

/*
 * IDs are shared by all patches; a patch that means to own its variables picks one
 * nobody else uses, e.g. KPATCH_SHADOW_ID('c', 'm', 'd', 1). A later patch that takes
 * over the data uses the same ID on purpose.
 */
#define KPATCH_SHADOW_ID(a, b, c, n)						\
	(((unsigned long)(a) << 24) | ((unsigned long)(b) << 16) |		\
	 ((unsigned long)(c) << 8) | (unsigned long)(n))

#endif /* _KPATCH_SHADOW_H_ */
