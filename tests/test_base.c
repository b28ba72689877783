/* test_base.c - handles, status names, field types and frame schemas. */
#include <criterion/criterion.h>
#include "base.h"

#include <math.h>
#include <string.h>

Test(base, handles_pack_slot_and_generation) {
    uint64_t h = sw_handle_make(123, 7);
    cr_assert_eq(sw_handle_slot(h), 123);
    cr_assert_eq(sw_handle_gen(h), 7);
    cr_assert_eq(sw_handle_make(0, 1), 1ull << 32); /* slot 0 is still a non-zero handle */
    cr_assert_eq(sw_handle_slot(sw_handle_make(UINT32_MAX, UINT32_MAX)), UINT32_MAX);
}

Test(base, every_status_has_a_name) {
    for (int st = SW_E_FORMAT; st <= SW_OK; st++) {
        const char *n = sw_status_name(st);
        cr_assert_str_neq(n, "unknown status", "status %d", st);
        for (int other = SW_E_FORMAT; other < st; other++) cr_assert_str_neq(n, sw_status_name(other));
    }
    cr_assert_str_eq(sw_status_name(SW_E_CLOSED), "channel closed");
    cr_assert_str_eq(sw_status_name(-100), "unknown status");
    cr_assert_str_eq(sw_status_name(5), "unknown status");
}

Test(base, types_round_trip_by_name) {
    for (int t = SW_T_NONE + 1; t < SW_T_COUNT_; t++) {
        cr_assert_gt(sw_type_size((sw_type)t), 0);
        cr_assert_eq(sw_type_from_name(sw_type_name((sw_type)t)), t);
    }
    cr_assert_eq(sw_type_size(SW_T_NONE), 0);
    cr_assert_eq(sw_type_size(SW_T_COUNT_), 0);
    cr_assert_eq(sw_type_size(SW_T_MSG), sizeof(sw_msg));
    cr_assert_eq(sw_type_from_name("nope"), SW_T_NONE);
    cr_assert_eq(sw_type_from_name(NULL), SW_T_NONE);
    cr_assert_str_eq(sw_type_name((sw_type)99), "?");
}

typedef struct {
    bool b;
    int32_t i32;
    int64_t i64;
    uint32_t u32;
    uint64_t u64;
    float f32;
    double f64;
    sw_id id;
    sw_chan ch;
    sw_msg msg;
    sw_value val;
} all_t;

static const sw_field all_fields[] = {
    SW_FIELD(all_t, b, SW_T_BOOL),   SW_FIELD(all_t, i32, SW_T_I32), SW_FIELD(all_t, i64, SW_T_I64),
    SW_FIELD(all_t, u32, SW_T_U32),  SW_PARAM(all_t, u64, SW_T_U64, 5, "five"),
    SW_FIELD(all_t, f32, SW_T_F32),  SW_FIELD(all_t, f64, SW_T_F64), SW_FIELD(all_t, id, SW_T_ID),
    SW_FIELD(all_t, ch, SW_T_CHAN),  SW_FIELD(all_t, msg, SW_T_MSG), SW_FIELD(all_t, val, SW_T_VALUE),
    SW_FIELD_END};

Test(base, fields_set_and_get_every_numeric_type) {
    cr_assert_eq(sw_fields_count(all_fields), 11);
    cr_assert_eq(sw_fields_count(NULL), 0);
    const sw_field *u = sw_fields_find(all_fields, "u64");
    cr_assert_not_null(u);
    cr_assert(u->param);
    cr_assert_eq(u->def, 5.0);
    cr_assert_str_eq(u->doc, "five");
    cr_assert_null(sw_fields_find(all_fields, "missing"));
    all_t a;
    memset(&a, 0, sizeof a);
    for (const sw_field *f = all_fields; f->name; f++) {
        if (f->type == SW_T_MSG || f->type == SW_T_VALUE) {
            cr_assert_eq(sw_field_set_number(f, &a, 1), SW_E_INVALID);
            cr_assert(isnan(sw_field_get_number(f, &a)));
            continue;
        }
        double v = f->type == SW_T_BOOL ? 1 : f->type == SW_T_F32 ? 2.5 : 42;
        cr_assert_eq(sw_field_set_number(f, &a, v), SW_OK, "%s", f->name);
        cr_assert_eq(sw_field_get_number(f, &a), v, "%s", f->name);
    }
    cr_assert_eq(a.i64, 42);
    cr_assert_eq(a.ch, 42);
    cr_assert(a.b);
    cr_assert_eq(a.f32, 2.5f);
    /* negative numbers survive signed types */
    cr_assert_eq(sw_field_set_number(sw_fields_find(all_fields, "i32"), &a, -9), SW_OK);
    cr_assert_eq(a.i32, -9);
}
