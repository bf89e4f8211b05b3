#pragma once
// Random edits of a text for differential tests of the readers (a reader's
// short way against its general way on texts near the ones it reads).

#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace gitfed::test {

// One to three edits: a character of `alphabet` inserted, a character or a
// line deleted, a line indented two spaces deeper or shallower. The same
// `rng` state gives the same texts on every run.
inline std::string mutate(std::string text, const std::string& alphabet, std::mt19937& rng) {
  const int edits = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, text.size())(rng);
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
      case 0:  // insert a character
        text.insert(at, 1, alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)]);
        break;
      case 1:  // delete one
        if (at < text.size()) text.erase(at, 1);
        break;
      case 2: {  // delete a line
        const std::size_t start = text.rfind('\n', at == 0 ? 0 : at - 1);
        const std::size_t from = start == std::string::npos ? 0 : start + 1;
        const std::size_t end = text.find('\n', from);
        text.erase(from, end == std::string::npos ? std::string::npos : end - from + 1);
        break;
      }
      default:  // indent a line deeper or shallower
        if (const std::size_t start = text.rfind('\n', at == 0 ? 0 : at - 1); start != std::string::npos) {
          if (text.compare(start + 1, 2, "  ") == 0 && std::uniform_int_distribution<int>(0, 1)(rng))
            text.erase(start + 1, 2);
          else
            text.insert(start + 1, "  ");
        }
    }
  }
  return text;
}

// `rounds` texts, each a mutation of the next seed in turn (a fixed random
// seed: the same texts on every run): how many of them `reads` says it read.
template <class Reads>
int countMutationsRead(const std::vector<std::string>& seeds, const std::string& alphabet, int rounds, Reads&& reads) {
  std::mt19937 rng(20261207);
  int read = 0;
  for (int round = 0; round < rounds; ++round)
    read += reads(mutate(seeds[static_cast<std::size_t>(round) % seeds.size()], alphabet, rng)) ? 1 : 0;
  return read;
}

}  // namespace gitfed::test
