# tessera-cli(1) completion for bash                         -*- shell-script -*-
#
# Completes commands, each command's options, files for the options that
# take one, and token URIs from `tessera-cli tokens --json` (under a
# timeout, so that a hung module never hangs the shell).  Loaded by
# bash-completion, whose helpers it uses.
#
# A URI holds ":", "=" and ";".  The first two are in COMP_WORDBREAKS, and
# ";" also ends a shell command: a URI offered in a word that is not quoted
# yet comes quoted ('pkcs11:…'), in a word already quoted it comes bare (bash
# closes the quote), and after a bare prefix such as pkcs11:token= it comes
# with its ";" escaped; each relative to where bash starts the word.
#
# SPDX-License-Identifier: GPL-3.0-or-later

# The options each command uses; they may also come before the command.
_tessera_cli_options ()
{
    local with_login='--pin-file --final-try'

    case $1 in
        tokens) echo '--module --json' ;;
        objects) echo "--module --login $with_login --json" ;;
        ssh-keys) echo '--module --all --fingerprints --hash' ;;
        agent) echo "--module --lifetime --confirm $with_login --remember-pin" ;;
        init) echo '--module --label --so-pin-file --new-pin-file --yes' ;;
        set-pin) echo '--module --so --pin-file --so-pin-file --new-pin-file' ;;
        unblock) echo '--module --so-pin-file --new-pin-file' ;;
        generate) echo "--module --type --label $with_login --certificate --subject --days" ;;
        'certificate create') echo "--module --id --subject --days $with_login" ;;
        'certificate import') echo "--module --label $with_login" ;;
        'certificate export') echo '--module --id --der --output' ;;
        certificate) echo "--module --id --subject --days --label --der --output $with_login" ;;
        rename) echo "--module --id --kind --label $with_login" ;;
        delete) echo "--module --id --kind --yes $with_login" ;;
        doctor) echo "--module --fix $with_login" ;;
        test-sign) echo "--module --id $with_login" ;;
        create-software-token) echo '--label --so-pin-file --new-pin-file' ;;
        *) echo '--module --help' ;;
    esac
}

# A word as the shell will pass it, for the simple quoting people use on
# paths: no eval, so nothing on the command line runs while completing.
_tessera_cli_dequote ()
{
    local word=$1

    case $word in
        \'*\') word=${word:1:${#word}-2} ;;
        \"*\") word=${word:1:${#word}-2} ;;
        *) word=${word//\\/} ;;
    esac
    [[ $word == \~/* ]] && word=$HOME/${word:2}
    printf '%s' "$word"
}

# The URIs of the tokens, one a line; with the --module options given on
# the command line, of those modules only.
_tessera_cli_token_uris ()
{
    local cli=$1 json uri re='"uri": "(pkcs11:[^"\\]*)"'
    shift

    [[ $cli == \~/* ]] && cli=$HOME/${cli:2}
    # JSON strings escape their quotes, so the pattern cannot match inside
    # a label; a module that does not answer is killed after 5 seconds.
    json=$(timeout -k 1 5 "$cli" tokens --json "$@" 2>/dev/null </dev/null)
    while [[ $json =~ $re ]]; do
        uri=${BASH_REMATCH[1]}
        printf '%s\n' "$uri"
        json=${json#*"${BASH_REMATCH[0]}"}
    done
}

# COMPREPLY from the URIs that start with the word being completed ($1, as
# typed, joined across ":", "=" and ";").
_tessera_cli_complete_uris ()
{
    local cur=$1 cli=$2 quote='' typed uri prefix='' i
    shift 2
    local -a uris

    case $cur in
        \'* | \"*)
            quote=${cur:0:1}
            typed=${cur:1}
            ;;
        *) typed=${cur//\\;/;} ;;
    esac

    mapfile -t uris < <(_tessera_cli_token_uris "$cli" "$@")
    COMPREPLY=()
    for uri in "${uris[@]}"; do
        [[ $uri == "$typed"* ]] || continue
        if [[ -n $quote ]]; then
            # bash starts the word after the open quote, and closes it
            COMPREPLY+=("$uri")
        elif [[ -z $typed ]]; then
            COMPREPLY+=("'$uri'")
        else
            COMPREPLY+=("${uri//;/\\;}")
        fi
    done

    # bash replaces only what follows the last word break that is not
    # escaped: drop what comes before it from each URI.
    if [[ -z $quote && -n $typed ]]; then
        for ((i = ${#cur} - 1; i >= 0; i--)); do
            if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* && ${cur:i-1:1} != \\ ]]; then
                prefix=${cur:0:i+1}
                break
            fi
        done
        if [[ -n $prefix ]]; then
            for i in "${!COMPREPLY[@]}"; do
                COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
            done
        fi
    fi
}

_tessera_cli ()
{
    local cur prev words cword split
    _init_completion -s -n '=:;' || return

    local cli=${words[0]:-tessera-cli}
    local takes_value='--module|-m|--pin-file|--so-pin-file|--new-pin-file|--lifetime|-t|--label|--type|--id|--kind|--subject|--days|--output|-o|--hash|-E'

    case $prev in
        --module | -m)
            _filedir so
            return
            ;;
        --pin-file | --so-pin-file | --new-pin-file | --output | -o)
            _filedir
            return
            ;;
        --type)
            COMPREPLY=($(compgen -W 'rsa:2048 rsa:3072 rsa:4096 ec:p256 ec:p384 ec:p521 ed25519' -- "$cur"))
            __ltrim_colon_completions "$cur"
            return
            ;;
        --kind)
            COMPREPLY=($(compgen -W 'private public certificate' -- "$cur"))
            return
            ;;
        --hash | -E)
            COMPREPLY=($(compgen -W 'sha256 md5' -- "$cur"))
            return
            ;;
        --lifetime | -t | --label | --id | --subject | --days)
            return
            ;;
    esac
    $split && return

    # The words that are not options: the command, its verb, URI and file.
    local -a positional modules
    local i word
    for ((i = 1; i < cword; i++)); do
        word=${words[i]}
        case $word in
            --module=*) modules+=(--module "$(_tessera_cli_dequote "${word#--module=}")") ;;
            --module | -m)
                ((i + 1 < cword)) && modules+=(--module "$(_tessera_cli_dequote "${words[i + 1]}")")
                ((i++))
                ;;
            -*)
                [[ $word == @($takes_value) ]] && ((i++))
                ;;
            *) positional+=("$word") ;;
        esac
    done

    local command=${positional[0]-}
    local verb=${positional[1]-}
    local n=${#positional[@]}

    if [[ $cur == -* ]]; then
        case $command in
            certificate) [[ $n -ge 2 ]] && command="certificate $verb" ;;
        esac
        COMPREPLY=($(compgen -W "$(_tessera_cli_options "$command")" -- "$cur"))
        return
    fi

    case $command in
        '')
            COMPREPLY=($(compgen -W 'tokens objects ssh-keys agent init set-pin unblock generate
                certificate rename delete doctor test-sign create-software-token' -- "$cur"))
            ;;
        tokens | create-software-token) ;;
        agent)
            if ((n == 1)); then
                COMPREPLY=($(compgen -W 'status add remove' -- "$cur"))
            elif ((n == 2)); then
                _tessera_cli_complete_uris "$cur" "$cli" "${modules[@]}"
            fi
            ;;
        certificate)
            if ((n == 1)); then
                COMPREPLY=($(compgen -W 'create import export' -- "$cur"))
            elif ((n == 2)); then
                _tessera_cli_complete_uris "$cur" "$cli" "${modules[@]}"
            elif ((n == 3)) && [[ $verb == import ]]; then
                _filedir '@(pem|crt|cer|der)'
            fi
            ;;
        objects | ssh-keys | init | set-pin | unblock | generate | rename | delete | doctor | test-sign)
            ((n == 1)) && _tessera_cli_complete_uris "$cur" "$cli" "${modules[@]}"
            ;;
    esac
} &&
    complete -F _tessera_cli tessera-cli

# ex: filetype=sh
