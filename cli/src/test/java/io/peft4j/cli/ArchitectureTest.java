package io.peft4j.cli;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package rules of the whole tree, enforced in the build (the cli module sees every library module):
 * no package cycles except between a package and its own {@code internal} sub-package, no library module depending
 * on the command line, benchmarks or the server, a {@code package-info} in every package, and no main class over
 * 400 lines.
 */
class ArchitectureTest {
    private static final int MAX_LINES = 400;
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(location -> location.contains("/io/peft4j/") && !location.contains("-tests.jar")
                        && !location.contains("/test-classes/"))
                .importPackages("io.peft4j");
    }

    /** A package and its {@code internal} sub-package form one slice: cycles between them are allowed. */
    private static final SliceAssignment PACKAGE_WITH_ITS_INTERNALS = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
            String pkg = javaClass.getPackageName();
            if (!pkg.startsWith("io.peft4j.")) {
                return SliceIdentifier.ignore();
            }
            int internal = pkg.indexOf(".internal");
            return SliceIdentifier.of(internal < 0 ? pkg : pkg.substring(0, internal));
        }

        @Override
        public String getDescription() {
            return "packages of io.peft4j (each with its internal sub-package)";
        }
    };

    @Test
    void packages_haveNoCycles() {
        ArchRule rule = slices().assignedFrom(PACKAGE_WITH_ITS_INTERNALS).should().beFreeOfCycles();
        rule.check(classes);
    }

    @Test
    void libraryModules_doNotDependOnCliBenchOrServe() {
        ArchRule rule = noClasses().that().resideInAnyPackage("io.peft4j.core..", "io.peft4j.quant..",
                        "io.peft4j.lora..", "io.peft4j.qlora..", "io.peft4j.prompt..", "io.peft4j.datasets..")
                .should().dependOnClassesThat().resideInAnyPackage("io.peft4j.cli..", "io.peft4j.bench..",
                        "io.peft4j.serve..", "io.peft4j.spark..", "io.peft4j.examples..");
        rule.check(classes);
    }

    @Test
    void everyPackage_hasPackageInfo() throws IOException {
        TreeSet<String> missing = new TreeSet<>();
        for (Path f : mainSources()) {
            if (!Files.exists(f.resolveSibling("package-info.java"))) {
                missing.add(ROOT.relativize(f.getParent()).toString());
            }
        }
        assertTrue(missing.isEmpty(), "packages without package-info.java: " + missing);
    }

    @Test
    void mainClasses_atMost400Lines() throws IOException {
        TreeSet<String> tooLong = new TreeSet<>();
        for (Path f : mainSources()) {
            long lines;
            try (Stream<String> l = Files.lines(f)) {
                lines = l.count();
            }
            if (lines > MAX_LINES) {
                tooLong.add(ROOT.relativize(f) + " (" + lines + ")");
            }
        }
        assertTrue(tooLong.isEmpty(), "main classes over " + MAX_LINES + " lines: " + tooLong);
    }

    /** Every {@code .java} file under a module's {@code src/main/java} (the test runs in {@code cli/}). */
    private static List<Path> mainSources() throws IOException {
        try (Stream<Path> files = Files.walk(ROOT, 14)) {
            return files.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/main/java/")
                    && !p.toString().contains("/target/")).toList();
        }
    }
}
