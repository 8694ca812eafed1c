// SPDX-License-Identifier: GPL-2.0-only
/*
 * shadow.c - shadow variables: data that patches attach to existing kernel objects by
 * (object address, id), kept in one hash table of the core (API: kpatch-shadow.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include "core.h"
#include "kpatch-shadow.h"

struct kpatch_shadow {
	struct hlist_node node;		/* in kpatch_shadow_hash */
	struct rcu_head rcu;
	void *obj;
	unsigned long id;
	char data[] __aligned(__alignof__(unsigned long long));
};

/* 4096 buckets: a patch may shadow one object per task or per open file. */
static DEFINE_HASHTABLE(kpatch_shadow_hash, 12);

/*
 * kpatch_shadow_lock serialises every change of kpatch_shadow_hash and of
 * kpatch_shadow_count, with interrupts off because callers may run in any context.
 * Lookups skip it and walk the table under RCU; entries are freed after a grace
 * period, so a lookup never touches freed memory.
 */
static DEFINE_SPINLOCK(kpatch_shadow_lock);
static unsigned long kpatch_shadow_count;

static struct kpatch_shadow *kpatch_shadow_find(void *obj, unsigned long id)
{
	struct kpatch_shadow *s;

	hash_for_each_possible_rcu(kpatch_shadow_hash, s, node, (unsigned long)obj,
				   lockdep_is_held(&kpatch_shadow_lock))
		if (s->obj == obj && s->id == id)
			return s;
	return NULL;
}

void *kpatch_shadow_get(void *obj, unsigned long id)
{
	struct kpatch_shadow *s;

	rcu_read_lock();
	s = kpatch_shadow_find(obj, id);
	rcu_read_unlock();
	/* The caller owns the variable's lifetime: it frees it where @obj dies. */
	return s ? s->data : NULL;
}
EXPORT_SYMBOL_GPL(kpatch_shadow_get);

/*
 * The common part of alloc and get_or_alloc. The allocation happens outside the lock
 * (so a GFP_KERNEL caller may sleep), then the lock is taken and the table checked
 * again, because another CPU may have attached the same variable meanwhile.
 */
static void *kpatch_shadow_attach(void *obj, unsigned long id, size_t size,
				  gfp_t gfp_flags, kpatch_shadow_ctor_t ctor,
				  void *ctor_data, bool warn_exists)
{
	struct kpatch_shadow *new, *s;
	unsigned long flags;
	void *data;
	int err;

	data = kpatch_shadow_get(obj, id);
	if (data)
		goto exists;
	new = kzalloc(struct_size(new, data, size), gfp_flags);
	if (!new)
		return NULL;
	new->obj = obj;
	new->id = id;

	spin_lock_irqsave(&kpatch_shadow_lock, flags);
	s = kpatch_shadow_find(obj, id);
	if (s) {
		data = s->data;
		spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
		kfree(new);	/* undoes kzalloc(): the other CPU's variable wins */
		goto exists;
	}
	/* Under the lock, so a racing get_or_alloc never sees it half built. */
	err = ctor ? ctor(obj, new->data, ctor_data) : 0;
	if (err) {
		spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
		pr_err("constructor %ps of shadow variable 0x%lx for %px failed: %d\n",
		       ctor, id, obj, err);
		kfree(new);	/* undoes kzalloc() */
		return NULL;
	}
	hash_add_rcu(kpatch_shadow_hash, &new->node, (unsigned long)obj);
	WRITE_ONCE(kpatch_shadow_count, kpatch_shadow_count + 1);
	spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
	return new->data;

exists:
	if (!warn_exists)
		return data;
	pr_warn("shadow variable 0x%lx for %px already exists\n", id, obj);
	return NULL;
}

void *kpatch_shadow_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp_flags,
			  kpatch_shadow_ctor_t ctor, void *ctor_data)
{
	return kpatch_shadow_attach(obj, id, size, gfp_flags, ctor, ctor_data, true);
}
EXPORT_SYMBOL_GPL(kpatch_shadow_alloc);

void *kpatch_shadow_get_or_alloc(void *obj, unsigned long id, size_t size,
				 gfp_t gfp_flags, kpatch_shadow_ctor_t ctor, void *ctor_data)
{
	return kpatch_shadow_attach(obj, id, size, gfp_flags, ctor, ctor_data, false);
}
EXPORT_SYMBOL_GPL(kpatch_shadow_get_or_alloc);

/* Unhashes @s and frees it after a grace period. Caller holds kpatch_shadow_lock. */
static void __kpatch_shadow_free(struct kpatch_shadow *s, kpatch_shadow_dtor_t dtor)
{
	hash_del_rcu(&s->node);
	WRITE_ONCE(kpatch_shadow_count, kpatch_shadow_count - 1);
	if (dtor)
		dtor(s->obj, s->data);
	/* kfree_rcu() does not sleep; lookups running now may still read @s. */
	kfree_rcu(s, rcu);
}

void kpatch_shadow_free(void *obj, unsigned long id, kpatch_shadow_dtor_t dtor)
{
	struct kpatch_shadow *s;
	unsigned long flags;

	spin_lock_irqsave(&kpatch_shadow_lock, flags);
	s = kpatch_shadow_find(obj, id);
	if (s)
		__kpatch_shadow_free(s, dtor);
	spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
}
EXPORT_SYMBOL_GPL(kpatch_shadow_free);

void kpatch_shadow_free_all(unsigned long id, kpatch_shadow_dtor_t dtor)
{
	struct kpatch_shadow *s;
	struct hlist_node *tmp;
	unsigned long flags;
	int bkt;

	spin_lock_irqsave(&kpatch_shadow_lock, flags);
	hash_for_each_safe(kpatch_shadow_hash, bkt, tmp, s, node)
		if (s->id == id)
			__kpatch_shadow_free(s, dtor);
	spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
}
EXPORT_SYMBOL_GPL(kpatch_shadow_free_all);

/*
 * At core unload: patch modules are gone, so whatever is left was leaked by one of
 * them. Free it without destructors (their code is gone too) and say so.
 */
void kpatch_shadow_exit(void)
{
	struct kpatch_shadow *s;
	struct hlist_node *tmp;
	unsigned long flags, left;
	int bkt;

	spin_lock_irqsave(&kpatch_shadow_lock, flags);
	left = kpatch_shadow_count;
	hash_for_each_safe(kpatch_shadow_hash, bkt, tmp, s, node)
		__kpatch_shadow_free(s, NULL);
	spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
	if (left)
		pr_warn("%lu shadow variables were never freed by their patches\n", left);
}

static ssize_t shadow_count_show(struct kobject *kobj, struct kobj_attribute *attr,
				 char *buf)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(kpatch_shadow_count));
}
struct kobj_attribute kpatch_shadow_count_attr = __ATTR_RO(shadow_count);
