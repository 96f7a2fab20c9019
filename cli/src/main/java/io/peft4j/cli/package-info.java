/**
 * The {@code peft4j} command ({@link io.peft4j.cli.Peft4jCommand}): picocli subcommands that parse options, call
 * the library and print one line of status on stderr and, with {@code --json}, one JSON object on stdout. Bad
 * input exits 2 with one line naming the file, field or flag at fault; internal failures exit 1. No logic the
 * library lacks lives here.
 */
package io.peft4j.cli;
