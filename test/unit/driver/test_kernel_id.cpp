// kpatch-build reads the build id of an ELF file as the loader reads /sys/kernel/notes
// (common/include/kpatch/build_id.hpp) (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

#include <kpatch/build_id.hpp>

#include "elf_note.hpp"
#include "kernel_id.hpp"

namespace fs = std::filesystem;

TEST_CASE("kernel id: the build id of a linked file, as the linker wrote it", "[kernel_id]")
{
    fs::path dir = fs::temp_directory_path() / ("kpatch-build-id-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    { std::ofstream(dir / "main.c") << "int main(void) { return 0; }\n"; }
    std::string cmd = "cc -o '" + (dir / "prog").string() + "' '" + (dir / "main.c").string() +
                      "' -Wl,--build-id=0x0123456789abcdef0011223344556677deadbeef";
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(kpatch::driver::elf_build_id((dir / "prog").string()) == "0123456789abcdef0011223344556677deadbeef");
    CHECK(kpatch::driver::elf_build_id((dir / "main.c").string()).empty());  // not ELF: no id
    fs::remove_all(dir);
}

TEST_CASE("build id notes: found after other notes, not past the end", "[kernel_id]")
{
    std::string gnu("GNU\0", 4);
    std::string notes = elf_note(1, std::string("Xen\0", 4), "abc") + elf_note(3, gnu, "\x01\xab");
    CHECK(kpatch::find_gnu_build_id(notes) == "01ab");
    CHECK(kpatch::find_gnu_build_id(notes.substr(0, notes.size() - 3)).empty());  // desc cut short
    CHECK(kpatch::find_gnu_build_id(elf_note(3, std::string("GNX\0", 4), "\x01")).empty());
}
