// JSON documents we did not write, broken on purpose: type swaps, missing keys, huge values (licence: GPL-2.0-only).
#include "json_mutate.hpp"

#include <kpatch/json_dump.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vector>

namespace kpatch::fuzz {

namespace {

using nlohmann::json;

// Keys the manifest and kpatchd's record use, so added keys hit the readers' lookups.
const std::vector<std::string> kKeys = {"name", "sympos", "object", "kernel_release", "build_id", "patch_sha256",
                                        "replaced", "new", "reviewed", "function", "reason", "waived",
                                        "source_object", "hooks", "pre_patch", "post_unpatch", "patches", "time",
                                        "enabled", "status", "result", "error", "format", "x"};

json random_value(Rng &rng)
{
    switch (rng.below(14)) {
    case 0: return "kpatch_fuzz";
    case 1: return 42;
    case 2: return -1;
    case 3: return 1.5;
    case 4: return std::uint64_t(18446744073709551615ull);
    case 5: return nullptr;
    case 6: return true;
    case 7: return json::array();
    case 8: return json::object();
    case 9: return json::array({"cmdline_proc_show"});
    case 10: return json{{"name", "cmdline_proc_show"}, {"sympos", rng.interesting()}};
    case 11: return std::string(1 + rng.below(300), 'a');  // longer than any kernel name
    case 12: return "../../etc/passwd";
    default: return std::int64_t(-9223372036854775807ll - 1);
    }
}

void collect(json &j, std::vector<json *> &out)
{
    out.push_back(&j);
    if (j.is_structured())
        for (auto &child : j)
            collect(child, out);
}

void mutate_node(json &node, Rng &rng, std::string &what)
{
    switch (rng.below(5)) {
    case 0:
        node = random_value(rng);
        what += fmt::format(" node became {}", node.type_name());
        return;
    case 1:
        if (node.is_object() && !node.empty()) {
            auto it = node.begin();
            std::advance(it, rng.below(node.size()));
            what += fmt::format(" key \"{}\" removed", it.key());
            node.erase(it);
            return;
        }
        break;
    case 2:
        if (node.is_object()) {
            const std::string &k = rng.pick(kKeys);
            node[k] = random_value(rng);
            what += fmt::format(" key \"{}\" set to {}", k, node[k].type_name());
            return;
        }
        break;
    case 3:
        if (node.is_array()) {
            json item = node.empty() ? random_value(rng) : node[rng.below(node.size())];
            std::size_t n = rng.percent(20) ? 20000 : 1 + rng.below(4);
            for (std::size_t i = 0; i < n; ++i)
                node.push_back(item);
            what += fmt::format(" array grown by {}", n);
            return;
        }
        break;
    default:
        if (node.is_string()) {
            static const std::vector<std::string> odd = {"", "a b", "a/b", "..", "a\nb", "x,y", "-", "kpatch",
                                                         "order", std::string(64, 'n'), std::string(1 << 20, 'h')};
            node = rng.pick(odd);
            what += fmt::format(" string became {} bytes", node.get_ref<const std::string &>().size());
            return;
        }
        break;
    }
    node = random_value(rng);
    what += fmt::format(" node became {}", node.type_name());
}

void mutate_text(std::string &text, Rng &rng, std::string &what)
{
    switch (rng.below(5)) {
    case 0: {  // invalid UTF-8 inside a string
        std::size_t q = text.find('"', rng.below(text.size() + 1));
        if (q != std::string::npos)
            text.insert(q + 1, rng.percent(50) ? "\xff\xfe" : "\xc3");
        what += " invalid UTF-8";
        break;
    }
    case 1: {  // a value nested very deep, still valid JSON
        std::size_t colon = text.find(':', rng.below(text.size() + 1));
        std::size_t depth = rng.percent(50) ? 1000 : 100000;
        if (colon != std::string::npos)
            text.insert(colon + 1, std::string(depth, '[') + "1" + std::string(depth, ']') + (text[colon + 1] == '}' ? "" : ","));
        what += fmt::format(" nested {} deep", depth);
        break;
    }
    case 2:
        text.resize(rng.below(text.size() + 1));
        what += " cut";
        break;
    case 3:
        text.insert(rng.below(text.size() + 1), 1, '\0');
        what += " NUL inside";
        break;
    default:
        for (int n = 1 + rng.below(4); n > 0 && !text.empty(); --n)
            text[rng.below(text.size())] = static_cast<char>(rng.pick(std::vector<int>{'"', ',', '{', '[', ']', '}', ':', '\\', 0x80}));
        what += " bytes changed";
    }
}

} // namespace

std::string mutate_json(const std::string &text, Rng &rng, std::string &what)
{
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_discarded()) {
        for (int n = 1 + rng.below(3); n > 0; --n) {
            std::vector<json *> nodes;
            collect(doc, nodes);
            mutate_node(*nodes[rng.below(nodes.size())], rng, what);
        }
    }
    std::string out = doc.is_discarded() ? text : kpatch::json_dump(doc);
    if (rng.percent(30))
        mutate_text(out, rng, what);
    return out;
}

} // namespace kpatch::fuzz
