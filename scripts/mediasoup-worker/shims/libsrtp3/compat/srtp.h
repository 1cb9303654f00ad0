// The libsrtp 3 API that mediasoup calls, on top of libsrtp 2.5.
// - libsrtp 3 protects out of place with size_t lengths; libsrtp 2 works in place with int
//   lengths. Each call copies the packet into the output buffer, then works in place there.
// - libsrtp 3's srtp_policy_t is an opaque handle built through setters; libsrtp 2's is a
//   plain struct. The handle below owns such a struct and its key buffer.
#pragma once

#include <srtp2/srtp.h>
#include <cstddef>
#include <cstring>
#include <new>
#include <vector>

// Error codes that libsrtp 3 added after srtp_err_status_pkt_idx_adv.
static constexpr srtp_err_status_t srtp_err_status_buffer_small =
  static_cast<srtp_err_status_t>(srtp_err_status_pkt_idx_adv + 1);
static constexpr srtp_err_status_t srtp_err_status_cryptex_err =
  static_cast<srtp_err_status_t>(srtp_err_status_pkt_idx_adv + 2);

namespace ms_srtp_compat
{
	using InPlaceFn = srtp_err_status_t (*)(srtp_t, void*, int*);

	inline srtp_err_status_t Apply(
	  InPlaceFn fn, srtp_t ctx, const uint8_t* in, size_t inLen, uint8_t* out, size_t* outLen, size_t growth)
	{
		if (*outLen < inLen + growth)
			return srtp_err_status_buffer_small;
		if (out != in)
			std::memmove(out, in, inLen);

		int len = static_cast<int>(inLen);
		const srtp_err_status_t err = fn(ctx, out, &len);

		if (err == srtp_err_status_ok)
			*outLen = static_cast<size_t>(len);

		return err;
	}

	struct Policy
	{
		::srtp_policy_t policy{};
		// libsrtp 2 takes the master key and salt as one buffer.
		std::vector<uint8_t> key;
	};
} // namespace ms_srtp_compat

// From here on, srtp_policy_t names libsrtp 3's handle type.
using ms_srtp_policy_handle = ms_srtp_compat::Policy*;
#define srtp_policy_t ms_srtp_policy_handle

inline srtp_err_status_t srtp_policy_create(ms_srtp_policy_handle* policy)
{
	*policy = new (std::nothrow) ms_srtp_compat::Policy();

	return *policy ? srtp_err_status_ok : srtp_err_status_alloc_fail;
}

inline void srtp_policy_destroy(ms_srtp_policy_handle policy)
{
	delete policy;
}

inline srtp_err_status_t srtp_policy_set_ssrc(ms_srtp_policy_handle policy, srtp_ssrc_t ssrc)
{
	policy->policy.ssrc = ssrc;

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_profile(ms_srtp_policy_handle policy, srtp_profile_t profile)
{
	const srtp_err_status_t err =
	  srtp_crypto_policy_set_from_profile_for_rtp(&policy->policy.rtp, profile);

	if (err != srtp_err_status_ok)
		return err;

	return srtp_crypto_policy_set_from_profile_for_rtcp(&policy->policy.rtcp, profile);
}

// One master key, no MKI: all that mediasoup uses.
inline srtp_err_status_t srtp_policy_add_key(
  ms_srtp_policy_handle policy,
  const uint8_t* key,
  size_t keyLen,
  const uint8_t* salt,
  size_t saltLen,
  const uint8_t* mki,
  size_t mkiLen)
{
	if (mki != nullptr || mkiLen != 0 || !policy->key.empty())
		return srtp_err_status_bad_param;

	policy->key.assign(key, key + keyLen);
	policy->key.insert(policy->key.end(), salt, salt + saltLen);
	policy->policy.key = policy->key.data();

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_allow_repeat_tx(ms_srtp_policy_handle policy, bool allow)
{
	policy->policy.allow_repeat_tx = allow ? 1 : 0;

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_window_size(ms_srtp_policy_handle policy, size_t windowSize)
{
	policy->policy.window_size = windowSize;

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_create(srtp_t* session, ms_srtp_policy_handle policy)
{
	policy->policy.next = nullptr;

	return ::srtp_create(session, &policy->policy);
}

// mki_index is ignored: mediasoup never uses MKI.
inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtpLen, uint8_t* srtp, size_t* srtpLen, size_t /*mkiIndex*/)
{
	return ms_srtp_compat::Apply(::srtp_protect, ctx, rtp, rtpLen, srtp, srtpLen, SRTP_MAX_TRAILER_LEN);
}

inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcpLen, uint8_t* srtcp, size_t* srtcpLen, size_t /*mkiIndex*/)
{
	// SRTCP also appends the 4-byte E flag + SRTCP index.
	return ms_srtp_compat::Apply(
	  ::srtp_protect_rtcp, ctx, rtcp, rtcpLen, srtcp, srtcpLen, SRTP_MAX_TRAILER_LEN + 4);
}

inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtpLen, uint8_t* rtp, size_t* rtpLen)
{
	return ms_srtp_compat::Apply(::srtp_unprotect, ctx, srtp, srtpLen, rtp, rtpLen, 0);
}

inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcpLen, uint8_t* rtcp, size_t* rtcpLen)
{
	return ms_srtp_compat::Apply(::srtp_unprotect_rtcp, ctx, srtcp, srtcpLen, rtcp, rtcpLen, 0);
}

// Both take the SSRC in network byte order.
inline srtp_err_status_t srtp_stream_remove(srtp_t ctx, uint32_t ssrc)
{
	return srtp_remove_stream(ctx, ssrc);
}
