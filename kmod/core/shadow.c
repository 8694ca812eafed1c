// SPDX-License-Identifier: GPL-2.0-only
/*
 * shadow.c - shadow variables: data that patches attach to existing kernel objects by
 * (object address, id), kept in one hash table of the core (API: kpatch-shadow.h).
 *
 * Ownership: an ID is shared by every patch module that uses it. Each module that
 * calls the API with an ID holds a claim on it (made at its first call, or up front
 * with kpatch_shadow_claim()); kpatch_shadow_free_all() drops the caller's claim and
 * frees only when no other module holds one. So in an upgrade (a newer patch uses the
 * older one's ID, then the older is unloaded and its post-unpatch hook frees "all"),
 * the data the newer patch uses stays; the newer patch's own free_all frees it later.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/notifier.h>
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

/*
 * A module's claim on an ID. The list changes under kpatch_shadow_lock and is read
 * under RCU. A NULL @mod is a caller we could not name (a tail call from a patch
 * reaches us with a vmlinux return address): nothing drops that claim, so the ID's
 * variables are kept until the core unloads, a leak rather than a use after free.
 */
struct kpatch_shadow_claim {
	struct list_head node;
	struct rcu_head rcu;
	unsigned long id;
	struct module *mod;
};
static LIST_HEAD(kpatch_shadow_claims);

/* Hooks run in a known patch's name (hooks.c); elsewhere the return address tells. */
static struct module *kpatch_shadow_caller(unsigned long ret_ip)
{
	struct module *mod;

	if (READ_ONCE(kpatch_hook_task) == current)
		return READ_ONCE(kpatch_hook_mod);
	preempt_disable();
	mod = kpatch_syms.__module_address(ret_ip);
	preempt_enable();
	/* Only compared, never dereferenced: the GOING notifier drops it in time. */
	return mod;
}

static struct kpatch_shadow_claim *kpatch_shadow_find_claim(unsigned long id,
							    struct module *mod)
{
	struct kpatch_shadow_claim *c;

	list_for_each_entry_rcu(c, &kpatch_shadow_claims, node,
				lockdep_is_held(&kpatch_shadow_lock))
		if (c->id == id && c->mod == mod)
			return c;
	return NULL;
}

/*
 * Makes sure @mod holds a claim on @id before it may see a variable of @id. Taking
 * the lock to add one orders it against kpatch_shadow_free_all(): either free_all sees
 * the claim and keeps the variables, or it freed them before our lookup starts.
 */
static int kpatch_shadow_hold(unsigned long id, struct module *mod, gfp_t gfp_flags)
{
	struct kpatch_shadow_claim *c, *new;
	unsigned long flags;

	rcu_read_lock();
	c = kpatch_shadow_find_claim(id, mod);
	rcu_read_unlock();
	if (c)
		return 0;
	new = kzalloc(sizeof(*new), gfp_flags);
	if (!new) {
		pr_err_ratelimited("no memory to record %s's claim on shadow variable 0x%lx\n",
				   mod ? module_name(mod) : "(unknown)", id);
		return -ENOMEM;
	}
	new->id = id;
	new->mod = mod;
	spin_lock_irqsave(&kpatch_shadow_lock, flags);
	if (kpatch_shadow_find_claim(id, mod)) {
		spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
		kfree(new);	/* undoes kzalloc(): another CPU recorded it */
		return 0;
	}
	list_add_rcu(&new->node, &kpatch_shadow_claims);
	spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
	return 0;
}

static struct kpatch_shadow *kpatch_shadow_find(void *obj, unsigned long id)
{
	struct kpatch_shadow *s;

	hash_for_each_possible_rcu(kpatch_shadow_hash, s, node, (unsigned long)obj,
				   lockdep_is_held(&kpatch_shadow_lock))
		if (s->obj == obj && s->id == id)
			return s;
	return NULL;
}

static void *__kpatch_shadow_get(void *obj, unsigned long id)
{
	struct kpatch_shadow *s;

	rcu_read_lock();
	s = kpatch_shadow_find(obj, id);
	rcu_read_unlock();
	/*
	 * Safe after the unlock: the caller's claim (kpatch_shadow_hold) keeps free_all of
	 * other modules away, and only code where @obj dies calls kpatch_shadow_free().
	 */
	return s ? s->data : NULL;
}

void *kpatch_shadow_get(void *obj, unsigned long id)
{
	struct module *mod = kpatch_shadow_caller(_RET_IP_);

	if (kpatch_shadow_hold(id, mod, GFP_ATOMIC))
		return NULL;
	return __kpatch_shadow_get(obj, id);
}
EXPORT_SYMBOL_GPL(kpatch_shadow_get);

int kpatch_shadow_claim(unsigned long id)
{
	return kpatch_shadow_hold(id, kpatch_shadow_caller(_RET_IP_), GFP_KERNEL);
}
EXPORT_SYMBOL_GPL(kpatch_shadow_claim);

/*
 * The common part of alloc and get_or_alloc. The allocation happens outside the lock
 * (so a GFP_KERNEL caller may sleep), then the lock is taken and the table checked
 * again, because another CPU may have attached the same variable meanwhile.
 */
static void *kpatch_shadow_attach(void *obj, unsigned long id, size_t size,
				  gfp_t gfp_flags, kpatch_shadow_ctor_t ctor,
				  void *ctor_data, bool warn_exists, struct module *mod)
{
	struct kpatch_shadow *new, *s;
	unsigned long flags;
	void *data;
	int err;

	if (kpatch_shadow_hold(id, mod, gfp_flags))
		return NULL;
	data = __kpatch_shadow_get(obj, id);
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
	return kpatch_shadow_attach(obj, id, size, gfp_flags, ctor, ctor_data, true,
				    kpatch_shadow_caller(_RET_IP_));
}
EXPORT_SYMBOL_GPL(kpatch_shadow_alloc);

void *kpatch_shadow_get_or_alloc(void *obj, unsigned long id, size_t size,
				 gfp_t gfp_flags, kpatch_shadow_ctor_t ctor, void *ctor_data)
{
	return kpatch_shadow_attach(obj, id, size, gfp_flags, ctor, ctor_data, false,
				    kpatch_shadow_caller(_RET_IP_));
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

/* Is @id claimed by any module? Caller holds kpatch_shadow_lock. */
static bool __kpatch_shadow_claimed(unsigned long id, struct module **by)
{
	struct kpatch_shadow_claim *c;

	list_for_each_entry(c, &kpatch_shadow_claims, node) {
		if (c->id == id) {
			*by = c->mod;
			return true;
		}
	}
	return false;
}

void kpatch_shadow_free_all(unsigned long id, kpatch_shadow_dtor_t dtor)
{
	struct module *mod = kpatch_shadow_caller(_RET_IP_), *other = NULL;
	struct kpatch_shadow_claim *c;
	struct kpatch_shadow *s;
	struct hlist_node *tmp;
	unsigned long flags, kept = 0;
	int bkt;

	spin_lock_irqsave(&kpatch_shadow_lock, flags);
	c = kpatch_shadow_find_claim(id, mod);
	if (c) {
		list_del_rcu(&c->node);
		kfree_rcu(c, rcu);
	}
	if (__kpatch_shadow_claimed(id, &other)) {
		/* Handed over: the other module's live code may use every one of them. */
		hash_for_each(kpatch_shadow_hash, bkt, s, node)
			kept += s->id == id;
	} else {
		hash_for_each_safe(kpatch_shadow_hash, bkt, tmp, s, node)
			if (s->id == id)
				__kpatch_shadow_free(s, dtor);
	}
	spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
	if (kept)
		pr_info("%s: %lu shadow variables 0x%lx kept, still claimed by %s\n",
			mod ? module_name(mod) : "(unknown)", kept, id,
			other ? module_name(other) : "(unknown)");
}
EXPORT_SYMBOL_GPL(kpatch_shadow_free_all);

/*
 * A module going away drops its claims without freeing anything: if it never called
 * free_all, its variables stay for the other claimants or, with none, until the core
 * unloads (a leak the core reports then, not a use after free).
 */
static int kpatch_shadow_module_notify(struct notifier_block *nb, unsigned long action,
				       void *data)
{
	struct module *mod = data;
	struct kpatch_shadow_claim *c, *tmp;
	unsigned long flags;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	spin_lock_irqsave(&kpatch_shadow_lock, flags);
	list_for_each_entry_safe(c, tmp, &kpatch_shadow_claims, node) {
		if (c->mod == mod) {
			list_del_rcu(&c->node);
			kfree_rcu(c, rcu);
		}
	}
	spin_unlock_irqrestore(&kpatch_shadow_lock, flags);
	return NOTIFY_DONE;
}

static struct notifier_block kpatch_shadow_module_nb = {
	.notifier_call = kpatch_shadow_module_notify,
};

int kpatch_shadow_init(void)
{
	return register_module_notifier(&kpatch_shadow_module_nb);
}

/*
 * At core unload: patch modules are gone, so whatever is left was leaked by one of
 * them. Free it without destructors (their code is gone too) and say so.
 */
void kpatch_shadow_exit(void)
{
	struct kpatch_shadow_claim *c, *ctmp;
	struct kpatch_shadow *s;
	struct hlist_node *tmp;
	unsigned long flags, left;
	int bkt;

	unregister_module_notifier(&kpatch_shadow_module_nb);
	spin_lock_irqsave(&kpatch_shadow_lock, flags);
	list_for_each_entry_safe(c, ctmp, &kpatch_shadow_claims, node) {
		list_del_rcu(&c->node);
		kfree_rcu(c, rcu);
	}
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
