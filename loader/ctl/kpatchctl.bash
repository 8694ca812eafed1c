# bash completion for kpatchctl: verbs, options, installed and loaded patch names (licence: GPL-2.0-only).
_kpatchctl_installed() {
    local root=${KPATCH_INSTALL_ROOT:-/var/lib/kpatch} kver=${1:-$(uname -r)}
    [ -r "$root/$kver/order" ] && cat "$root/$kver/order"
}

_kpatchctl_loaded() {
    local d
    for d in "${KPATCH_SYSFS_ROOT:-/sys/kernel/kpatch}"/*/; do
        [ -d "$d" ] && basename "$d"
    done
}

_kpatchctl() {
    local cur prev verb= i kver=
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local verbs="load unload list install uninstall info verify status"
    local opts="-h --help --version --json --json=pretty --json=short --json=off -q --quiet -v --verbose --retries --no-nudge"

    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -k|--kernel-release) kver=${COMP_WORDS[i+1]}; ((i++)) ;;
            --retries) ((i++)) ;;
            -*) ;;
            *) [ -z "$verb" ] && verb=${COMP_WORDS[i]} ;;
        esac
    done

    case $prev in
        -k|--kernel-release)
            COMPREPLY=($(compgen -W "$(ls "${KPATCH_INSTALL_ROOT:-/var/lib/kpatch}" /lib/modules 2>/dev/null | sort -u)" -- "$cur"))
            return ;;
        --retries) return ;;
    esac
    if [[ $cur == -* ]]; then
        case $verb in
            unload) opts="$opts --all" ;;
            install|uninstall) opts="$opts -k --kernel-release" ;;
        esac
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    case $verb in
        '') COMPREPLY=($(compgen -W "$verbs" -- "$cur")) ;;
        load|info|verify)
            COMPREPLY=($(compgen -W "$(_kpatchctl_installed)" -- "$cur") $(compgen -f -X '!*.ko' -- "$cur") $(compgen -d -- "$cur")) ;;
        install)
            COMPREPLY=($(compgen -f -X '!*.ko' -- "$cur") $(compgen -d -- "$cur")) ;;
        uninstall)
            COMPREPLY=($(compgen -W "$(_kpatchctl_installed "$kver")" -- "$cur")) ;;
        unload)
            COMPREPLY=($(compgen -W "$(_kpatchctl_loaded) --all" -- "$cur")) ;;
    esac
}
complete -F _kpatchctl kpatchctl
