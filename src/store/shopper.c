/*
 * shopper.c - the buyer as promo validation sees it (shopper.h).
 */
#include "store/shopper.h"

#include <string.h>

#include "base/fd.h"
#include "store/context.h"
#include "store/members.h"

int fd_shopper_load(fd_db *db, const fd_program *p, const fd_config *cfg, int64_t member_id,
                    bool lock, int64_t now, json_t *cart, fd_shopper *s)
{
    memset(s, 0, sizeof *s);
    s->now = now;
    int rc = fd_localtime(p->timezone, now, &s->lt);
    if (rc) return rc;
    s->env = (jl_env){now, s->lt.weekday, s->lt.hour, s->lt.utc_offset_s};
    if (member_id) {
        rc = lock ? fd_member_get_locked(db, p->id, member_id, &s->m)
                  : fd_member_get(db, p->id, member_id, &s->m);
        if (rc) return rc;
        s->has_member = true;
    }
    json_t *member;
    int tier;
    rc = fd_member_context(db, p, cfg, s->has_member ? &s->m : NULL, &s->lt, now, FD_CTX_ALL,
                           &member, &tier);
    if (rc) {
        fd_shopper_clear(s);
        return rc;
    }
    s->data = json_pack("{s:o, s:O, s:o}", "member", member, "cart", cart ? cart : json_null(),
                        "time", fd_time_context(&s->lt));
    return FD_OK;
}

void fd_shopper_clear(fd_shopper *s)
{
    json_decref(s->data);
    s->data = NULL;
    if (s->has_member) fd_member_clear(&s->m);
    s->has_member = false;
}

void fd_shopper_facts(const fd_shopper *s, const fd_cart *cart, fd_promo_facts *f)
{
    const json_t *member = json_object_get(s->data, "member");
    memset(f, 0, sizeof *f);
    f->cart = cart;
    f->has_member = s->has_member;
    f->tier = json_string_value(json_object_get(member, "tier"));
    f->segments = json_object_get(member, "segments");
    f->orders = json_integer_value(json_object_get(member, "orders_before"));
    f->birth_month = s->has_member ? (int)(fd_member_birthday_md(s->m.attributes) / 100) : 0;
    f->month = s->lt.month;
    f->local_minute = s->lt.hour * 60 + s->lt.minute;
    f->data = s->data;
    f->env = &s->env;
    f->ctx = fd_thread_jl_ctx();
}
