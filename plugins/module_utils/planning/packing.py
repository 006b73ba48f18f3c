"""Packing table durations into clusters that fit the window: the seed's next-fit, first-fit decreasing,
a balanced fit, and the lower bound every packing is measured against."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass


def lower_bound(durations: list[int], capacity: int, per_cluster: int) -> int:
    if not durations:
        return 0
    return max(math.ceil(len(durations) / per_cluster), math.ceil(sum(durations) / capacity))


def next_fit_ascending(durations: list[int], capacity: int, per_cluster: int) -> list[list[int]]:
    """The seed's packing: tables by ascending duration, a new cluster whenever the next does not fit."""
    bins: list[list[int]] = []
    load = 0
    for index in sorted(range(len(durations)), key=lambda i: durations[i]):
        if not bins or len(bins[-1]) == per_cluster or load + durations[index] > capacity:
            bins.append([])
            load = 0
        bins[-1].append(index)
        load += durations[index]
    return bins


def first_fit_decreasing(durations: list[int], capacity: int, per_cluster: int) -> list[list[int]]:
    """Longest first, each into the first cluster with room; a max segment tree keeps it O(n log n)."""
    size = 1
    while size < max(1, len(durations)):
        size *= 2
    # Leaves hold each cluster's remaining seconds (-1 once it has its table count); unopened
    # clusters are full-capacity leaves to the right, so "leftmost that fits" also opens new ones.
    tree = [capacity] * (2 * size)
    bins: list[list[int]] = []
    loads: list[int] = []
    for index in sorted(range(len(durations)), key=lambda i: -durations[i]):
        need = durations[index]
        node = 1
        while node < size:
            node = 2 * node if tree[2 * node] >= need else 2 * node + 1
        slot = node - size
        if slot == len(bins):
            bins.append([])
            loads.append(0)
        bins[slot].append(index)
        loads[slot] += need
        tree[node] = capacity - loads[slot] if len(bins[slot]) < per_cluster else -1
        node //= 2
        while node:
            tree[node] = max(tree[2 * node], tree[2 * node + 1])
            node //= 2
    return bins


def balanced_fit(durations: list[int], capacity: int, per_cluster: int, clusters: int) -> list[list[int]] | None:
    """Longest first into the least-loaded of exactly `clusters` clusters; None when they cannot hold all."""
    heap = [(0, slot) for slot in range(clusters)]
    bins: list[list[int]] = [[] for _cluster in range(clusters)]
    for index in sorted(range(len(durations)), key=lambda i: -durations[i]):
        while heap and len(bins[heap[0][1]]) == per_cluster:
            heapq.heappop(heap)
        if not heap or heap[0][0] + durations[index] > capacity:
            return None  # the least-loaded cluster with room cannot take it, so none can
        load, slot = heapq.heappop(heap)
        bins[slot].append(index)
        heapq.heappush(heap, (load + durations[index], slot))
    return [b for b in bins if b]


@dataclass
class Packing:
    bins: list[list[int]]
    lower_bound: int
    next_fit_ascending: int
    method: str


def pack(durations: list[int], capacity: int, per_cluster: int) -> Packing:
    """First-fit decreasing, then an improvement pass that retries with fewer, balanced clusters."""
    if any(d > capacity for d in durations):
        raise ValueError("every duration must fit the cluster capacity before packing")
    bound = lower_bound(durations, capacity, per_cluster)
    seed = next_fit_ascending(durations, capacity, per_cluster)
    best, method = first_fit_decreasing(durations, capacity, per_cluster), "first-fit-decreasing"
    for clusters in range(bound, len(best)):
        balanced = balanced_fit(durations, capacity, per_cluster, clusters)
        if balanced is not None:
            best, method = balanced, "balanced-longest-first"
            break
    if len(seed) < len(best):
        best, method = seed, "next-fit-ascending"
    return Packing(best, bound, len(seed), method)
