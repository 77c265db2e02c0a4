/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include <lispms/wire.h>

Test(wire, reads_big_endian_fields)
{
	const uint8_t buf[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	struct wire w = wire_init_ro(buf, sizeof(buf));
	cr_assert_eq(wire_read_u8(&w), 0x01);
	cr_assert_eq(wire_read_u16(&w), 0x0203);
	cr_assert_eq(wire_read_u32(&w), 0x04050607u);
	cr_assert_eq(wire_read_u64(&w), 0x08090a0b0c0d0e0full);
	cr_assert_eq(wire_avail(&w), 0);
	cr_assert(wire_ok(&w));
	cr_assert_eq(wire_offset(&w), sizeof(buf));
}

Test(wire, read_past_end_is_sticky_and_reads_zero)
{
	const uint8_t buf[] = { 0xff, 0xff, 0xff };
	struct wire w = wire_init_ro(buf, sizeof(buf));
	cr_assert_eq(wire_read_u32(&w), 0);
	cr_assert_eq(w.error, LISPMS_ETRUNC);
	/* even a read that would fit now fails: the error is sticky */
	cr_assert_eq(wire_read_u8(&w), 0);
	cr_assert_eq(wire_avail(&w), 0);
	cr_assert_eq(wire_offset(&w), 0, "a failed read must not move the cursor");
	uint8_t dst[2] = { 0xaa, 0xaa };
	wire_read_bytes(&w, dst, sizeof(dst));
	cr_assert(dst[0] == 0 && dst[1] == 0);
}

Test(wire, writes_and_reports_no_space)
{
	uint8_t buf[7] = { 0 };
	struct wire w = wire_init(buf, sizeof(buf));
	wire_write_u16(&w, 0x1234);
	wire_write_u32(&w, 0xdeadbeef);
	cr_assert(wire_ok(&w));
	wire_write_u16(&w, 0x5678); /* one byte left: must not write half */
	cr_assert_eq(w.error, LISPMS_ENOSPC);
	const uint8_t want[7] = { 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x00 };
	cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(wire, sub_cursor_is_bounded_and_advances_parent)
{
	const uint8_t buf[] = { 0, 2, 0xaa, 0xbb, 0xcc };
	struct wire w = wire_init_ro(buf, sizeof(buf));
	uint16_t n = wire_read_u16(&w);
	struct wire sub = wire_sub(&w, n);
	cr_assert_eq(wire_read_u16(&sub), 0xaabb);
	cr_assert_eq(wire_read_u8(&sub), 0);
	cr_assert_eq(sub.error, LISPMS_ETRUNC);
	cr_assert(wire_ok(&w));
	cr_assert_eq(wire_read_u8(&w), 0xcc);
	struct wire bad = wire_sub(&w, 1);
	cr_assert_neq(bad.error, LISPMS_EOK);
	cr_assert_eq(w.error, LISPMS_ETRUNC);
}

Test(wire, seek_and_patch)
{
	uint8_t buf[8] = { 0 };
	struct wire w = wire_init(buf, sizeof(buf));
	wire_write_zero(&w, 2);
	wire_write_u32(&w, 7);
	wire_put_u16(buf, (uint16_t)wire_offset(&w));
	cr_assert_eq(wire_get_u16(buf), 6);
	cr_assert_eq(wire_get_u32(buf + 2), 7);
	wire_seek(&w, 9);
	cr_assert_eq(w.error, LISPMS_EINVAL);
}
