package io.peft4j.cli;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.GeneralCodingRules.NO_CLASSES_SHOULD_ACCESS_STANDARD_STREAMS;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package rules of the whole tree, enforced in the build (the cli module sees every library module):
 * no package cycles except between a package and its own {@code internal} sub-package, no library module depending
 * on the command line, benchmarks or the server, a {@code package-info} in every package, and no main class over
 * 400 lines. The public-API guard (until japicmp has a release to compare against): an {@code internal} package is
 * used only inside its own module, and every public type of a library module outside {@code internal} says
 * {@code @since}. Library code logs through SLF4J only: it never touches {@code System.out}/{@code System.err} and
 * never calls {@code System.exit}.
 */
class ArchitectureTest {
    private static final int MAX_LINES = 400;
    /** Package prefix (under {@code io.peft4j.}) of each module; bench, cli, serve, spark and examples only consume. */
    private static final Map<String, String> MODULES = modules();
    private static final String[] LIBRARY_PACKAGES = {"io.peft4j.core..", "io.peft4j.quant..", "io.peft4j.lora..",
        "io.peft4j.qlora..", "io.peft4j.prompt..", "io.peft4j.datasets.."};
    private static final List<String> LIBRARY_SOURCE_ROOTS = List.of("peft-core", "quantization", "lora", "qlora",
            "prompt-tuning", "instruction-datasets");
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

    private static Map<String, String> modules() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("core", "peft-core");
        m.put("quant", "quantization");
        m.put("lora", "lora");
        m.put("qlora", "qlora");
        m.put("prompt", "prompt-tuning");
        m.put("datasets", "instruction-datasets");
        for (String consumer : List.of("bench", "cli", "serve", "spark", "examples")) {
            m.put(consumer, consumer);
        }
        return m;
    }

    /** The module a class belongs to, from its package ({@code io.peft4j.<prefix>...}); null outside peft4j. */
    private static String moduleOf(JavaClass c) {
        String pkg = c.getPackageName();
        if (!pkg.startsWith("io.peft4j.")) {
            return null;
        }
        String rest = pkg.substring("io.peft4j.".length());
        int dot = rest.indexOf('.');
        String module = MODULES.get(dot < 0 ? rest : rest.substring(0, dot));
        if (module == null) {
            throw new AssertionError("package " + pkg + " belongs to no known module: add it to MODULES");
        }
        return module;
    }

    private static boolean isInternal(JavaClass c) {
        String pkg = c.getPackageName();
        return pkg.contains(".internal.") || pkg.endsWith(".internal");
    }

    @Test
    void internalPackages_areUsedOnlyInsideTheirOwnModule() {
        ArchCondition<JavaClass> ownModuleOnly = new ArchCondition<>("use no internal package of another module") {
            @Override
            public void check(JavaClass origin, ConditionEvents events) {
                String from = moduleOf(origin);
                for (Dependency d : origin.getDirectDependenciesFromSelf()) {
                    JavaClass target = d.getTargetClass();
                    String to = moduleOf(target);
                    if (to != null && isInternal(target) && !to.equals(from)) {
                        events.add(SimpleConditionEvent.violated(d, from + " uses " + to + "'s internal "
                                + target.getName() + ": " + d.getDescription()));
                    }
                }
            }
        };
        classes().that().resideInAPackage("io.peft4j..").should(ownModuleOnly).check(classes);
    }

    @Test
    void libraryClasses_neverUseStandardStreams() {
        NO_CLASSES_SHOULD_ACCESS_STANDARD_STREAMS.check(classes.that(resideInAnyPackage(LIBRARY_PACKAGES)));
    }

    @Test
    void libraryClasses_neverExitTheJvm() {
        noClasses().that().resideInAnyPackage(LIBRARY_PACKAGES)
                .should().callMethod(System.class, "exit", int.class)
                .orShould().callMethod(Runtime.class, "exit", int.class)
                .check(classes);   // Runtime.halt is left to core.io.CrashPoint, inert unless -Dpeft4j.crashAt is set
    }

    @Test
    void publicLibraryTypes_sayWhenTheyCameIn() throws IOException {
        Pattern publicType = Pattern.compile("^public (?:final |abstract |sealed |non-sealed )*"
                + "(?:class|interface|record|enum|@interface) ", Pattern.MULTILINE);
        TreeSet<String> missing = new TreeSet<>();
        for (Path f : mainSources()) {
            String rel = ROOT.relativize(f).toString();
            if (!LIBRARY_SOURCE_ROOTS.contains(rel.substring(0, rel.indexOf('/'))) || rel.contains("/internal/")
                    || f.getFileName().toString().equals("package-info.java")) {
                continue;
            }
            String src = Files.readString(f);
            Matcher m = publicType.matcher(src);
            if (!m.find()) {
                continue;
            }
            int javadoc = src.lastIndexOf("/**", m.start());
            if (javadoc < 0 || !src.substring(javadoc, m.start()).contains("@since")) {
                missing.add(rel);
            }
        }
        assertTrue(missing.isEmpty(), "public types without @since in their Javadoc: " + missing);
    }

    @Test
    void libraryModules_doNotDependOnCliBenchOrServe() {
        ArchRule rule = noClasses().that().resideInAnyPackage(LIBRARY_PACKAGES)
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
