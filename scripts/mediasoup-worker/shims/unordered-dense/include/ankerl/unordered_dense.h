// The part of ankerl::unordered_dense (4.x) that mediasoup's worker uses, over abseil.
// unordered_dense is header-only and not packaged by Debian 12; abseil's flat_hash_map is,
// and is the same kind of table. What differs is adapted here:
// - erase(iterator) returns the next iterator (abseil returns void);
// - hash<T> is abseil's avalanching hash, as unordered_dense's own is.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>
#include <functional>
#include <iterator>
#include <memory>
#include <utility>

namespace ankerl::unordered_dense
{
	template<class T>
	using hash = absl::Hash<T>;

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	class map : public absl::flat_hash_map<Key, T, Hash, KeyEqual, Allocator>
	{
		using Base = absl::flat_hash_map<Key, T, Hash, KeyEqual, Allocator>;

	public:
		using Base::Base;
		using Base::erase;

		// Erasing never moves other elements in abseil, so the successor stays valid.
		typename Base::iterator erase(typename Base::iterator it)
		{
			auto next = std::next(it);
			Base::erase(it);
			return next;
		}

		typename Base::iterator erase(typename Base::const_iterator it)
		{
			return erase(this->find(it->first));
		}
	};

	template<
	  class Key,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<Key>>
	class set : public absl::flat_hash_set<Key, Hash, KeyEqual, Allocator>
	{
		using Base = absl::flat_hash_set<Key, Hash, KeyEqual, Allocator>;

	public:
		using Base::Base;
		using Base::erase;

		typename Base::iterator erase(typename Base::iterator it)
		{
			auto next = std::next(it);
			Base::erase(it);
			return next;
		}
	};
} // namespace ankerl::unordered_dense
