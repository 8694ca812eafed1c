// The identity of the target kernel (licence: GPL-2.0-only).
#include "kernel_id.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <kpatch/build_id.hpp>
#include <kpatch/json_field.hpp>

#include "process.hpp"

namespace kpatch::driver {

std::string elf_build_id(const std::string &path)
{
    elf_version(EV_CURRENT);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    std::string hex;
    if (Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
        for (Elf_Scn *scn = elf_nextscn(elf, nullptr); scn && hex.empty();
             scn = elf_nextscn(elf, scn)) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
                continue;
            // Raw bytes (elf_rawdata): the notes are parsed once, in common/ (build_id.hpp).
            Elf_Data *data = elf_rawdata(scn, nullptr);
            if (data && data->d_buf)
                hex = find_gnu_build_id(std::string_view(static_cast<const char *>(data->d_buf), data->d_size),
                                        sh.sh_addralign == 8 ? 8 : 4);
        }
        elf_end(elf);
    }
    ::close(fd);
    return hex;
}

namespace {

// The kernel_version string a bzImage points at from its setup header (offset 0x20e).
std::string bzimage_version(const std::string &image)
{
    auto data = read_text(image);
    if (!data || data->size() < 0x210)
        return {};
    unsigned off = static_cast<unsigned char>((*data)[0x20e]) |
                   static_cast<unsigned>(static_cast<unsigned char>((*data)[0x20f])) << 8;
    off += 0x200;
    if (off >= data->size())
        return {};
    return data->substr(off, data->find('\0', off) - off);
}

// Decompresses the kernel inside a bzImage (xz, gzip or zstd, whichever magic comes
// first) and reads its build id.
std::string bzimage_build_id(const std::string &image, const std::string &scratch)
{
    auto data = read_text(image);
    if (!data)
        return {};
    struct Codec { std::string magic; const char *cmd; };
    const Codec codecs[] = {{std::string("\xfd" "7zXZ\0", 6), "xz -dc --single-stream"},
                            {"\x1f\x8b\x08", "gzip -dc"},
                            {"\x28\xb5\x2f\xfd", "zstd -dc"}};
    size_t best = std::string::npos;
    const Codec *codec = nullptr;
    for (const Codec &c : codecs) {
        size_t at = data->find(c.magic);
        if (at < best) {
            best = at;
            codec = &c;
        }
    }
    if (!codec)
        return {};
    // Trailing bytes after the stream make gzip complain; the kernel is whole by then.
    Command cmd({"sh", "-c", "tail -c +$(($2 + 1)) \"$1\" | " + std::string(codec->cmd) +
                                 " > \"$3\" 2>/dev/null; true",
                 "sh", image, std::to_string(best), scratch});
    auto out = run(cmd);
    std::string id = out ? elf_build_id(scratch) : std::string();
    unlink(scratch.c_str());
    return id;
}

} // namespace

KernelId kernel_identity(const Context &ctx, const Target &target, const std::string &vmlinux)
{
    KernelId id;
    if (!target.vmlinuz.empty())
        id.version = bzimage_version(target.vmlinuz);
    if (!vmlinux.empty()) {
        id.build_id = elf_build_id(vmlinux);
        id.source = vmlinux;
        if (!id.build_id.empty())
            return id;
    }
    if (target.vmlinuz.empty())
        return id;
    struct stat st {};
    if (stat(target.vmlinuz.c_str(), &st) != 0)
        return id;
    std::string cache = ctx.cache_dir + "/kernel-ids/" + target.release + "-" +
                        std::to_string(st.st_size) + "-" + std::to_string(st.st_mtime) + ".json";
    if (auto text = read_text(cache)) {
        // A record that does not parse is read again from vmlinuz below.
        if (auto j = parse_json_object(*text)) {
            if (auto b = json_field<std::string>(*j, "build_id", ""); b) {
                id.build_id = *b;
                id.source = target.vmlinuz;
                return id;
            }
        }
    }
    if (!make_dirs(ctx.cache_dir + "/kernel-ids"))
        return id;
    auto scratch = make_temp_file(cache + ".vmlinux");
    if (!scratch)
        return id;
    id.build_id = bzimage_build_id(target.vmlinuz, *scratch);
    id.source = target.vmlinuz;
    (void)write_text_atomic(cache, nlohmann::json{{"build_id", id.build_id},
                                                  {"version", id.version}}.dump() + "\n");
    return id;
}

} // namespace kpatch::driver
