#!/usr/bin/env python3
"""Prints the (mangled) names of one object's functions that ran, from a callgrind dump, in the
order the dump first names them: `callgrind-functions.py DUMP OBJECT_PATH_SUFFIX`."""
import re
import sys

ENTRY = re.compile(r"^(c?)(ob|fn)=\((\d+)\)(?: (.*))?$")


def functions(lines, suffix):
    objects, names, seen = {}, {}, []
    current_object, callee_object = None, None
    for line in lines:
        entry = ENTRY.match(line.rstrip("\n"))
        if not entry:
            continue
        is_callee, kind, ident, name = entry.groups()
        table = objects if kind == "ob" else names
        # The dump names an id once, then repeats only the id.
        if name:
            table[ident] = name
        if kind == "ob":
            if is_callee:
                callee_object = objects.get(ident)
            else:
                current_object = objects.get(ident)
            continue
        owner = current_object
        if is_callee:
            # A `cob=` line applies to the next called function only.
            owner, callee_object = callee_object or current_object, None
        name = names.get(ident)
        if name and owner and owner.endswith(suffix) and name not in seen:
            seen.append(name)
    return seen


if __name__ == "__main__":
    dump, suffix = sys.argv[1], sys.argv[2]
    with open(dump, errors="replace") as lines:
        for name in functions(lines, suffix):
            print(name)
