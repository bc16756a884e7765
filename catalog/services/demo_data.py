# ruff: noqa: E501  (the assortment table reads best one category per line)
"""The demo assortment: 25 departments of everyday items, grown deterministically (no network).

Product number i (0-based, SKU PN-{i+1:06d}) belongs to department i % 25, so any prefix of
the SKU range (`--small` takes the first 500) covers every department. Within a department the
k-th product is the k-th combination (brand x variant x item) of its category, in an order
shuffled by a fixed seed. The same SKU is always the same product.
"""

import itertools
import random
import re
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from django.utils.text import slugify

TOTAL = 25_000
SMALL = 500


@dataclass(frozen=True)
class Cat:
    name: str
    items: tuple[str, ...]
    variants: tuple[str, ...]
    sizes: tuple[str, ...]
    price: tuple[int, int]  # whole-dollar range, the cents are .29/.49/.79/.99


@dataclass(frozen=True)
class Dept:
    slug: str
    name: str
    brands: tuple[str, ...]
    categories: tuple[Cat, ...]
    age_restricted: bool = False
    blurb: str = ""
    tags: dict[str, str] = field(default_factory=dict)


def C(name: str, items: str, variants: str, sizes: tuple[str, ...], price: tuple[int, int]) -> Cat:
    return Cat(name, tuple(items.split(", ")), tuple(variants.split(", ")), tuple(sizes), price)


# Departments whose items get no substitute unless the customer picks one.
NO_SUBSTITUTES = frozenset({"baby", "beer-wine-spirits", "electronics", "gifts", "health"})

DEPARTMENTS: tuple[Dept, ...] = (
    Dept(
        "produce",
        "Fresh Produce",
        ("Sunny Acres", "Green Valley", "Farmstand", "Del Sol", "Orchard Lane", "Prime Fresh"),
        (
            C(
                "Fruit",
                "Bananas, Gala Apples, Strawberries, Blueberries, Navel Oranges, Red Grapes, Lemons, Avocados",
                "Organic, Fresh, Local, Premium, Value Pack, Seasonal",
                ("1 lb", "2 lb", "3 lb bag"),
                (1, 7),
            ),
            C(
                "Vegetables",
                "Baby Carrots, Broccoli Crowns, Russet Potatoes, Yellow Onions, Romaine Hearts, Cherry Tomatoes, Cucumbers, Bell Peppers",
                "Organic, Fresh, Local, Premium, Value Pack, Washed",
                ("1 lb", "2 lb", "5 lb bag"),
                (1, 6),
            ),
            C(
                "Salad Kits",
                "Caesar Salad Kit, Spring Mix, Baby Spinach, Kale Blend, Coleslaw Mix, Arugula",
                "Organic, Chopped, Family Size, Ready-to-Eat, Crunchy, Garden",
                ("5 oz", "10 oz", "1 lb"),
                (2, 6),
            ),
            C(
                "Fresh Herbs",
                "Basil, Cilantro, Flat Leaf Parsley, Mint, Rosemary, Thyme, Dill",
                "Organic, Fresh, Living, Local, Hydroponic, Premium",
                ("0.5 oz", "0.75 oz", "1 oz"),
                (1, 4),
            ),
        ),
        blurb="Picked ripe and delivered cold.",
    ),
    Dept(
        "dairy-eggs",
        "Dairy & Eggs",
        ("Horizon Meadow", "Happy Cow", "Clover Hill", "Alpine Dairy", "Prime Basics", "Brookside"),
        (
            C(
                "Milk",
                "Whole Milk, 2% Reduced Fat Milk, Skim Milk, Chocolate Milk, Oat Milk, Almond Milk, Lactose-Free Milk",
                "Organic, Grass-Fed, Ultra-Filtered, Vitamin D, Barista, Unsweetened",
                ("half gal", "1 gal", "1 qt"),
                (2, 7),
            ),
            C(
                "Cheese",
                "Sharp Cheddar, Mozzarella, Swiss Slices, Parmesan Wedge, Feta Crumbles, Brie, Pepper Jack",
                "Aged, Shredded, Sliced, Organic, Reduced Fat, Artisan",
                ("6 oz", "8 oz", "1 lb"),
                (3, 11),
            ),
            C(
                "Yogurt",
                "Greek Yogurt, Vanilla Yogurt, Strawberry Yogurt, Skyr, Kefir, Plain Yogurt",
                "Nonfat, Whole Milk, Organic, High Protein, Low Sugar, Probiotic",
                ("5.3 oz", "32 oz", "4 x 5.3 oz"),
                (1, 7),
            ),
            C(
                "Eggs",
                "Large Brown Eggs, Large White Eggs, Jumbo Eggs, Egg Whites, Duck Eggs",
                "Cage-Free, Free-Range, Pasture-Raised, Organic, Omega-3, Farm Fresh",
                ("6 ct", "12 ct", "18 ct"),
                (2, 9),
            ),
            C(
                "Butter & Cream",
                "Salted Butter, Unsalted Butter, Heavy Cream, Half & Half, Sour Cream, Cream Cheese",
                "Organic, European Style, Grass-Fed, Whipped, Light, Cultured",
                ("8 oz", "16 oz", "1 pt"),
                (2, 8),
            ),
        ),
    ),
    Dept(
        "meat-seafood",
        "Meat & Seafood",
        (
            "Butcher's Block",
            "Ocean Catch",
            "Prairie Ranch",
            "Wild Harbor",
            "Prime Select",
            "Heritage Farms",
        ),
        (
            C(
                "Beef",
                "Ground Beef, Ribeye Steak, Sirloin Steak, Beef Stew Meat, Chuck Roast, Flank Steak",
                "Grass-Fed, Angus, 85% Lean, 93% Lean, Organic, Prime Grade",
                ("1 lb", "1.5 lb", "2 lb"),
                (5, 25),
            ),
            C(
                "Chicken",
                "Chicken Breasts, Chicken Thighs, Whole Chicken, Chicken Wings, Chicken Drumsticks, Ground Chicken",
                "Boneless Skinless, Organic, Air-Chilled, Free-Range, Family Pack, Marinated",
                ("1 lb", "2 lb", "3 lb"),
                (4, 15),
            ),
            C(
                "Pork",
                "Pork Chops, Bacon, Pork Tenderloin, Italian Sausage, Baby Back Ribs, Ham Steak",
                "Thick Cut, Uncured, Applewood Smoked, Heritage, Center Cut, Family Pack",
                ("12 oz", "1 lb", "2 lb"),
                (4, 16),
            ),
            C(
                "Seafood",
                "Atlantic Salmon Fillet, Jumbo Shrimp, Cod Fillet, Tilapia Fillet, Sea Scallops, Tuna Steak",
                "Wild-Caught, Farm-Raised, Frozen, Peeled & Deveined, Skin-On, Sustainable",
                ("8 oz", "1 lb", "2 lb"),
                (7, 30),
            ),
        ),
    ),
    Dept(
        "bakery",
        "Bakery",
        (
            "Golden Crust",
            "Stone Mill",
            "Baker's Choice",
            "Rustic Loaf",
            "Prime Basics",
            "Village Oven",
        ),
        (
            C(
                "Bread",
                "Sourdough Loaf, Whole Wheat Bread, Multigrain Bread, Rye Bread, French Baguette, Ciabatta",
                "Organic, Sliced, Artisan, Seeded, Gluten-Free, Fresh-Baked",
                ("16 oz", "20 oz", "24 oz"),
                (2, 7),
            ),
            C(
                "Bagels & Muffins",
                "Plain Bagels, Everything Bagels, Blueberry Muffins, English Muffins, Croissants, Cinnamon Rolls",
                "Fresh-Baked, Mini, Jumbo, Whole Wheat, Butter, Bakery Fresh",
                ("4 ct", "6 ct", "12 ct"),
                (3, 8),
            ),
            C(
                "Cakes & Pies",
                "Chocolate Cake, Apple Pie, Cheesecake, Carrot Cake, Pumpkin Pie, Brownies",
                "Classic, Mini, Double Layer, Homestyle, Gluten-Free, Family Size",
                ("8 in", "10 in", "12 ct"),
                (5, 18),
            ),
            C(
                "Tortillas & Wraps",
                "Flour Tortillas, Corn Tortillas, Spinach Wraps, Pita Bread, Naan, Flatbread",
                "Soft Taco, Burrito Size, Whole Wheat, Low Carb, Garlic, Organic",
                ("8 ct", "10 ct", "20 ct"),
                (2, 6),
            ),
        ),
    ),
    Dept(
        "pantry",
        "Pantry",
        ("Pantry Pride", "Nonna's", "Good Harvest", "Mill Creek", "Prime Basics", "Casa Verde"),
        (
            C(
                "Pasta & Rice",
                "Spaghetti, Penne, Fusilli, Jasmine Rice, Basmati Rice, Brown Rice, Quinoa",
                "Organic, Whole Grain, Gluten-Free, Imported, Long Grain, Family Size",
                ("16 oz", "2 lb", "5 lb"),
                (1, 9),
            ),
            C(
                "Canned Goods",
                "Black Beans, Chickpeas, Diced Tomatoes, Chicken Noodle Soup, Tuna in Water, Sweet Corn",
                "Organic, Low Sodium, No Salt Added, Fire Roasted, Classic, Value Pack",
                ("15 oz", "4 x 15 oz", "28 oz"),
                (1, 6),
            ),
            C(
                "Sauces & Condiments",
                "Marinara Sauce, Ketchup, Yellow Mustard, Mayonnaise, Soy Sauce, Hot Sauce, BBQ Sauce",
                "Organic, Classic, Spicy, Reduced Sugar, Original, Squeeze",
                ("12 oz", "20 oz", "32 oz"),
                (2, 7),
            ),
            C(
                "Baking",
                "All-Purpose Flour, Granulated Sugar, Brown Sugar, Baking Soda, Chocolate Chips, Vanilla Extract",
                "Organic, Unbleached, Pure, Semi-Sweet, Light, Premium",
                ("1 lb", "2 lb", "5 lb"),
                (2, 10),
            ),
            C(
                "Oils & Vinegars",
                "Extra Virgin Olive Oil, Canola Oil, Avocado Oil, Balsamic Vinegar, Apple Cider Vinegar, Sesame Oil",
                "Organic, Cold-Pressed, Imported, Spray, Refined, Unfiltered",
                ("16.9 oz", "25.3 oz", "48 oz"),
                (3, 16),
            ),
        ),
    ),
    Dept(
        "snacks",
        "Snacks",
        (
            "Crunch Co.",
            "Salty Pete's",
            "Happy Trails",
            "Nutty Buddy",
            "Prime Basics",
            "Golden Kernel",
        ),
        (
            C(
                "Chips",
                "Potato Chips, Tortilla Chips, Kettle Chips, Pita Chips, Veggie Straws, Plantain Chips",
                "Sea Salt, Barbecue, Sour Cream & Onion, Jalapeno, Lightly Salted, Family Size",
                ("5 oz", "8 oz", "13 oz"),
                (2, 6),
            ),
            C(
                "Crackers",
                "Saltine Crackers, Cheddar Crackers, Water Crackers, Graham Crackers, Rice Crackers, Seed Crackers",
                "Whole Grain, Original, Reduced Fat, Gluten-Free, Honey, Everything",
                ("7 oz", "10 oz", "16 oz"),
                (2, 6),
            ),
            C(
                "Nuts & Trail Mix",
                "Roasted Almonds, Cashews, Mixed Nuts, Pistachios, Trail Mix, Peanuts",
                "Salted, Unsalted, Honey Roasted, Raw, Lightly Salted, Deluxe",
                ("8 oz", "16 oz", "2 lb"),
                (4, 15),
            ),
            C(
                "Cookies & Sweets",
                "Chocolate Chip Cookies, Oatmeal Cookies, Sandwich Cookies, Gummy Bears, Dark Chocolate Bar, Licorice",
                "Classic, Soft Baked, Mini, Double Chocolate, Organic, Sugar-Free",
                ("5 oz", "10 oz", "16 oz"),
                (2, 7),
            ),
            C(
                "Popcorn & Pretzels",
                "Microwave Popcorn, Kettle Corn, Pretzel Twists, Pretzel Rods, Cheese Puffs, Rice Cakes",
                "Butter, Lightly Salted, Sea Salt, Caramel, White Cheddar, Family Size",
                ("6 oz", "10 oz", "16 oz"),
                (2, 6),
            ),
        ),
    ),
    Dept(
        "beverages",
        "Beverages",
        (
            "Crystal Springs",
            "Bean & Leaf",
            "Fizz Pop",
            "Sunrise Juice",
            "Prime Basics",
            "Mountain Brew",
        ),
        (
            C(
                "Water",
                "Spring Water, Sparkling Water, Alkaline Water, Coconut Water, Mineral Water, Flavored Water",
                "Natural, Lemon, Lime, Berry, Unflavored, Electrolyte",
                ("1 L", "12 x 16.9 oz", "24 x 16.9 oz"),
                (1, 9),
            ),
            C(
                "Soda",
                "Cola, Lemon-Lime Soda, Root Beer, Ginger Ale, Orange Soda, Tonic Water",
                "Diet, Zero Sugar, Classic, Caffeine-Free, Craft, Mini Cans",
                ("2 L", "12 x 12 oz", "6 x 7.5 oz"),
                (2, 9),
            ),
            C(
                "Coffee & Tea",
                "Ground Coffee, Whole Bean Coffee, Coffee Pods, Green Tea, Black Tea, Cold Brew Coffee",
                "Dark Roast, Medium Roast, Decaf, Organic, Breakfast Blend, Fair Trade",
                ("12 oz", "24 ct", "32 oz"),
                (4, 16),
            ),
            C(
                "Juice",
                "Orange Juice, Apple Juice, Cranberry Juice, Lemonade, Grape Juice, Green Juice",
                "No Pulp, Pulp Free, Organic, Not From Concentrate, Cold-Pressed, Light",
                ("52 oz", "59 oz", "12 oz"),
                (2, 8),
            ),
            C(
                "Sports & Energy",
                "Sports Drink, Energy Drink, Protein Shake, Electrolyte Mix, Vitamin Water, Iced Tea",
                "Zero Sugar, Original, Tropical, Berry Blast, Citrus, Variety Pack",
                ("20 oz", "4 x 16 oz", "12 x 12 oz"),
                (2, 14),
            ),
        ),
    ),
    Dept(
        "frozen",
        "Frozen",
        ("Polar Kitchen", "Frosty Farms", "Arctic Gold", "Snowcap", "Prime Basics", "Chill & Co."),
        (
            C(
                "Frozen Meals",
                "Cheese Pizza, Pepperoni Pizza, Chicken Pot Pie, Lasagna, Burritos, Mac & Cheese",
                "Family Size, Single Serve, Thin Crust, Organic, Gluten-Free, Protein",
                ("10 oz", "22 oz", "32 oz"),
                (3, 11),
            ),
            C(
                "Frozen Vegetables",
                "Green Peas, Broccoli Florets, Mixed Vegetables, Sweet Corn, Cut Green Beans, Spinach",
                "Organic, Steam-in-Bag, Petite, Family Size, Seasoned, Riced",
                ("10 oz", "16 oz", "32 oz"),
                (1, 6),
            ),
            C(
                "Ice Cream",
                "Vanilla Ice Cream, Chocolate Ice Cream, Cookies & Cream, Mint Chip, Strawberry Sorbet, Ice Cream Bars",
                "Premium, Light, Dairy-Free, Organic, Double Churned, Gelato",
                ("1 pt", "1.5 qt", "6 ct"),
                (3, 9),
            ),
            C(
                "Frozen Breakfast",
                "Waffles, Pancakes, Breakfast Sandwiches, Hash Browns, French Toast Sticks, Breakfast Burritos",
                "Homestyle, Buttermilk, Whole Grain, Protein, Gluten-Free, Family Pack",
                ("10 ct", "12 ct", "24 oz"),
                (2, 9),
            ),
        ),
    ),
    Dept(
        "breakfast",
        "Breakfast & Cereal",
        (
            "Morning Star Mills",
            "Oat Valley",
            "Sunrise Grains",
            "Honey Hill",
            "Prime Basics",
            "Daybreak",
        ),
        (
            C(
                "Cereal",
                "Corn Flakes, Honey Oat Clusters, Granola, Frosted Wheat Squares, Rice Crisps, Bran Flakes",
                "Organic, Whole Grain, Low Sugar, Family Size, Gluten-Free, Crunchy",
                ("12 oz", "18 oz", "24 oz"),
                (3, 8),
            ),
            C(
                "Oatmeal",
                "Rolled Oats, Steel Cut Oats, Instant Oatmeal, Overnight Oats, Oat Bran, Quick Oats",
                "Organic, Maple & Brown Sugar, Apple Cinnamon, Original, Gluten-Free, Variety",
                ("18 oz", "42 oz", "10 ct"),
                (2, 7),
            ),
            C(
                "Spreads",
                "Peanut Butter, Almond Butter, Strawberry Jam, Honey, Maple Syrup, Hazelnut Spread",
                "Creamy, Crunchy, Organic, Natural, Pure, Reduced Sugar",
                ("12 oz", "16 oz", "28 oz"),
                (3, 12),
            ),
            C(
                "Breakfast Bars",
                "Granola Bars, Protein Bars, Cereal Bars, Oat Bars, Fruit Bars, Nut Bars",
                "Chocolate Chip, Peanut Butter, Berry, Oats & Honey, Variety Pack, Low Sugar",
                ("6 ct", "12 ct", "24 ct"),
                (3, 14),
            ),
        ),
    ),
    Dept(
        "beer-wine-spirits",
        "Beer, Wine & Spirits",
        (
            "Copper Still",
            "Old Vine Cellars",
            "Hop Harbor",
            "Silver Barrel",
            "Prime Reserve",
            "Riverbend Brewing",
        ),
        (
            C(
                "Beer",
                "India Pale Ale, Lager, Pilsner, Stout, Wheat Beer, Hard Seltzer",
                "Craft, Light, Session, Imported, Hazy, Seasonal",
                ("6 x 12 oz", "12 x 12 oz", "24 x 12 oz"),
                (9, 30),
            ),
            C(
                "Red Wine",
                "Cabernet Sauvignon, Pinot Noir, Merlot, Malbec, Zinfandel, Red Blend",
                "Reserve, Estate, Organic, Old Vine, Classic, Vintage",
                ("750 ml", "1.5 L", "375 ml"),
                (9, 40),
            ),
            C(
                "White Wine",
                "Chardonnay, Sauvignon Blanc, Pinot Grigio, Riesling, Rose, Prosecco",
                "Reserve, Estate, Organic, Dry, Sparkling, Classic",
                ("750 ml", "1.5 L", "375 ml"),
                (9, 35),
            ),
            C(
                "Spirits",
                "Vodka, London Dry Gin, Bourbon Whiskey, Silver Tequila, Spiced Rum, Scotch Whisky",
                "Small Batch, Premium, Aged, Single Barrel, Classic, Reserve",
                ("750 ml", "1 L", "375 ml"),
                (15, 60),
            ),
        ),
        age_restricted=True,
        blurb="Must be 21+. ID checked at delivery.",
    ),
    Dept(
        "household",
        "Household Essentials",
        ("HomeBright", "EverSoft", "Prime Basics", "TidyNest", "PureHome", "Sturdy"),
        (
            C(
                "Paper Towels & Tissue",
                "Paper Towels, Toilet Paper, Facial Tissues, Napkins, Paper Plates, Kitchen Rolls",
                "Ultra Soft, Mega Roll, Select-a-Size, Recycled, Strong, Lotion",
                ("6 ct", "12 ct", "24 ct"),
                (4, 30),
            ),
            C(
                "Trash & Storage",
                "Tall Kitchen Trash Bags, Storage Bags, Sandwich Bags, Aluminum Foil, Plastic Wrap, Parchment Paper",
                "Heavy Duty, Drawstring, Zip Top, Odor Control, Large, Recycled",
                ("20 ct", "50 ct", "100 ct"),
                (3, 16),
            ),
            C(
                "Laundry",
                "Laundry Detergent, Fabric Softener, Dryer Sheets, Stain Remover, Laundry Pods, Bleach",
                "Free & Clear, Fresh Scent, Lavender, HE, Concentrated, Sensitive",
                ("50 oz", "100 oz", "42 ct"),
                (4, 22),
            ),
            C(
                "Batteries & Bulbs",
                "AA Batteries, AAA Batteries, 9V Batteries, LED Light Bulbs, Coin Cell Batteries, Night Lights",
                "Alkaline, Rechargeable, Long Lasting, Soft White, Daylight, Value Pack",
                ("4 ct", "8 ct", "16 ct"),
                (4, 25),
            ),
        ),
    ),
    Dept(
        "cleaning",
        "Cleaning Supplies",
        ("SparkleWorks", "CleanSlate", "Prime Basics", "Green Glow", "ScrubMaster", "FreshHaus"),
        (
            C(
                "All-Purpose Cleaners",
                "All-Purpose Spray, Glass Cleaner, Disinfecting Wipes, Bathroom Cleaner, Kitchen Degreaser, Floor Cleaner",
                "Lemon, Unscented, Plant-Based, Bleach-Free, Antibacterial, Eucalyptus",
                ("22 oz", "32 oz", "75 ct"),
                (3, 9),
            ),
            C(
                "Dish Care",
                "Dish Soap, Dishwasher Pods, Rinse Aid, Sponges, Scrub Brushes, Dishwasher Gel",
                "Original, Lemon, Free & Clear, Ultra, Non-Scratch, Heavy Duty",
                ("19 oz", "32 ct", "6 ct"),
                (2, 16),
            ),
            C(
                "Cleaning Tools",
                "Microfiber Cloths, Mop Refills, Rubber Gloves, Broom, Toilet Brush, Dusters",
                "Reusable, Heavy Duty, Extra Large, Disposable, Ergonomic, Value Pack",
                ("1 ea", "3 ct", "12 ct"),
                (3, 20),
            ),
            C(
                "Air Care",
                "Air Freshener Spray, Scented Candles, Plug-In Refills, Odor Eliminator, Reed Diffuser, Car Vent Clips",
                "Lavender, Fresh Linen, Citrus, Unscented, Ocean Breeze, Vanilla",
                ("8 oz", "2 ct", "5 ct"),
                (3, 15),
            ),
        ),
    ),
    Dept(
        "personal-care",
        "Personal Care",
        ("Dove Lane", "Pure Essence", "Prime Basics", "Bloom & Co.", "Nordic Skin", "Everfresh"),
        (
            C(
                "Hair Care",
                "Shampoo, Conditioner, 2-in-1 Shampoo, Dry Shampoo, Hair Gel, Leave-In Conditioner",
                "Moisturizing, Volumizing, Color Safe, Sulfate-Free, Anti-Dandruff, Argan Oil",
                ("12 oz", "20 oz", "33.8 oz"),
                (3, 14),
            ),
            C(
                "Oral Care",
                "Toothpaste, Electric Toothbrush Heads, Manual Toothbrushes, Mouthwash, Dental Floss, Whitening Strips",
                "Whitening, Sensitive, Fluoride-Free, Mint, Charcoal, Kids",
                ("4 oz", "2 ct", "500 ml"),
                (2, 30),
            ),
            C(
                "Body Care",
                "Body Wash, Bar Soap, Body Lotion, Deodorant, Hand Soap, Sunscreen SPF 50",
                "Unscented, Sensitive Skin, Shea Butter, Coconut, Aloe, Sport",
                ("3 oz", "16 oz", "4 ct"),
                (3, 15),
            ),
            C(
                "Shaving",
                "Razor Cartridges, Disposable Razors, Shaving Cream, Aftershave Balm, Shave Gel, Beard Oil",
                "Sensitive, 5-Blade, Moisturizing, Cooling, Classic, Travel Size",
                ("4 ct", "7 oz", "12 ct"),
                (4, 28),
            ),
        ),
    ),
    Dept(
        "health",
        "Health & Wellness",
        ("CarePlus", "VitaLife", "Prime Basics", "Natures Path Labs", "WellSpring", "MediCore"),
        (
            C(
                "Pain Relief",
                "Ibuprofen Tablets, Acetaminophen Caplets, Aspirin, Naproxen Sodium, Pain Relief Patches, Muscle Rub",
                "Extra Strength, Regular Strength, Rapid Release, Coated, Liquid Gels, Value Size",
                ("24 ct", "100 ct", "200 ct"),
                (4, 16),
            ),
            C(
                "Cold & Allergy",
                "Allergy Relief Tablets, Cough Drops, Nasal Spray, Daytime Cold Relief, Nighttime Cold Relief, Throat Spray",
                "Non-Drowsy, Honey Lemon, Maximum Strength, 24 Hour, Cherry, Menthol",
                ("24 ct", "30 ct", "1 fl oz"),
                (4, 18),
            ),
            C(
                "Vitamins",
                "Multivitamin, Vitamin C, Vitamin D3, Magnesium, Fish Oil, Probiotic",
                "Gummies, Tablets, Softgels, Adult, Women's, Men's",
                ("60 ct", "90 ct", "120 ct"),
                (6, 25),
            ),
            C(
                "First Aid",
                "Adhesive Bandages, Antibiotic Ointment, Hydrogen Peroxide, Gauze Pads, Digital Thermometer, Hand Sanitizer",
                "Flexible Fabric, Waterproof, Sterile, Travel Size, Family Pack, Sensitive",
                ("1 ea", "30 ct", "8 oz"),
                (3, 15),
            ),
        ),
    ),
    Dept(
        "baby",
        "Baby",
        ("Little Sprout", "Tiny Steps", "Prime Basics", "Cuddle Bear", "BabyBloom", "Snuggle"),
        (
            C(
                "Diapers",
                "Diapers Size 1, Diapers Size 2, Diapers Size 3, Diapers Size 4, Training Pants, Overnight Diapers",
                "Sensitive, Ultra Absorbent, Plant-Based, Hypoallergenic, Value Pack, Newborn",
                ("32 ct", "74 ct", "128 ct"),
                (9, 45),
            ),
            C(
                "Wipes",
                "Baby Wipes, Water Wipes, Hand & Face Wipes, Wipes Refill, Flushable Wipes, Travel Wipes",
                "Unscented, Sensitive, Aloe, Hypoallergenic, Thick, Value Pack",
                ("72 ct", "216 ct", "576 ct"),
                (3, 20),
            ),
            C(
                "Baby Food",
                "Apple Puree, Banana Puree, Sweet Potato Puree, Oatmeal Cereal, Teething Wafers, Yogurt Melts",
                "Organic, Stage 1, Stage 2, No Sugar Added, Variety Pack, Pouch",
                ("4 oz", "6 x 4 oz", "8 oz"),
                (1, 12),
            ),
            C(
                "Feeding",
                "Infant Formula, Toddler Formula, Baby Bottles, Sippy Cups, Pacifiers, Bibs",
                "Sensitive, Gentle, Anti-Colic, BPA-Free, Organic, 0-6 Months",
                ("1 ea", "2 ct", "22 oz"),
                (5, 40),
            ),
        ),
    ),
    Dept(
        "pet",
        "Pet Supplies",
        (
            "Happy Paws",
            "Whisker Co.",
            "Prime Basics",
            "Tail Wag",
            "Wild Prairie Pet",
            "Feathers & Fins",
        ),
        (
            C(
                "Dog Food",
                "Dry Dog Food, Wet Dog Food, Puppy Food, Dog Treats, Dental Chews, Senior Dog Food",
                "Chicken & Rice, Beef, Grain-Free, Salmon, Small Breed, Large Breed",
                ("5 lb", "15 lb", "12 x 13 oz"),
                (5, 55),
            ),
            C(
                "Cat Food",
                "Dry Cat Food, Wet Cat Food, Kitten Food, Cat Treats, Hairball Formula, Indoor Cat Food",
                "Chicken, Salmon, Tuna, Grain-Free, Pate, Variety Pack",
                ("3 lb", "12 lb", "12 x 3 oz"),
                (3, 40),
            ),
            C(
                "Litter & Care",
                "Clumping Cat Litter, Poop Bags, Puppy Pads, Flea & Tick Shampoo, Pet Wipes, Litter Box Liners",
                "Unscented, Odor Control, Lightweight, Biodegradable, Extra Large, Natural",
                ("20 lb", "60 ct", "100 ct"),
                (4, 25),
            ),
            C(
                "Toys & Accessories",
                "Chew Toy, Cat Scratcher, Tennis Balls, Rope Toy, Feather Wand, Pet Bed",
                "Durable, Squeaky, Plush, Interactive, Small, Large",
                ("1 ea", "2 ct", "3 ct"),
                (4, 30),
            ),
        ),
    ),
    Dept(
        "electronics",
        "Electronics",
        ("Voltix", "Sonora", "Prime Tech", "Lumen", "ChargeUp", "NovaSound"),
        (
            C(
                "Chargers & Cables",
                "USB-C Cable, Lightning Cable, Wall Charger, Car Charger, Wireless Charging Pad, Power Bank",
                "Fast Charging, Braided, 6 ft, 3 ft, 20W, 10000 mAh",
                ("1 ea", "2 ct", "3 ct"),
                (9, 45),
            ),
            C(
                "Audio",
                "Wireless Earbuds, Over-Ear Headphones, Bluetooth Speaker, Wired Earbuds, Sleep Headphones, Soundbar",
                "Noise Cancelling, Waterproof, Sport, Compact, Bass Boost, Kids",
                ("1 ea", "1 ea", "1 ea"),
                (15, 150),
            ),
            C(
                "Phone Accessories",
                "Phone Case, Screen Protector, Phone Stand, Car Mount, Pop Grip, Selfie Stick",
                "Clear, Rugged, Magnetic, Slim, Tempered Glass, Universal",
                ("1 ea", "2 ct", "1 ea"),
                (8, 35),
            ),
            C(
                "Computer Accessories",
                "Wireless Mouse, Keyboard, USB Flash Drive, Webcam, Laptop Stand, HDMI Cable",
                "Ergonomic, Compact, 64 GB, 128 GB, 1080p, 4K",
                ("1 ea", "1 ea", "2 ct"),
                (9, 80),
            ),
            C(
                "Smart Home",
                "Smart Plug, Smart Bulb, Video Doorbell, Indoor Camera, Smart Speaker, Motion Sensor",
                "Wi-Fi, Color, Dimmable, 2-Pack, Voice Control, Outdoor",
                ("1 ea", "2 ct", "4 ct"),
                (12, 120),
            ),
        ),
    ),
    Dept(
        "home-kitchen",
        "Home & Kitchen",
        ("HearthWare", "Kitchen Pro", "Prime Basics", "Copper & Oak", "CasaLuxe", "Nest Goods"),
        (
            C(
                "Cookware",
                "Nonstick Frying Pan, Cast Iron Skillet, Saucepan, Stock Pot, Baking Sheet, Dutch Oven",
                "10 in, 12 in, Stainless, Ceramic, Enameled, Pre-Seasoned",
                ("1 ea", "1 ea", "2 ct"),
                (12, 90),
            ),
            C(
                "Kitchen Tools",
                "Chef's Knife, Cutting Board, Measuring Cups, Spatula Set, Can Opener, Vegetable Peeler",
                "Stainless Steel, Bamboo, Silicone, Professional, Dishwasher Safe, Ergonomic",
                ("1 ea", "3 pc", "5 pc"),
                (5, 45),
            ),
            C(
                "Food Storage",
                "Glass Containers, Meal Prep Containers, Mason Jars, Reusable Bags, Water Bottle, Lunch Box",
                "Leak-Proof, BPA-Free, Microwave Safe, Insulated, Stackable, Eco",
                ("1 ea", "4 pc", "10 pc"),
                (6, 40),
            ),
            C(
                "Home Decor",
                "Throw Pillow, Picture Frame, Wall Clock, Table Lamp, Faux Plant, Blanket",
                "Modern, Rustic, Velvet, Minimalist, Boho, Farmhouse",
                ("1 ea", "2 ct", "1 ea"),
                (10, 60),
            ),
        ),
    ),
    Dept(
        "office-school",
        "Office & School",
        ("Inkwell", "Paper Trail", "Prime Basics", "BrightNote", "Scholar", "DeskMate"),
        (
            C(
                "Writing",
                "Ballpoint Pens, Gel Pens, No. 2 Pencils, Highlighters, Permanent Markers, Dry Erase Markers",
                "Black, Blue, Assorted Colors, Fine Point, Bold, Retractable",
                ("4 ct", "12 ct", "24 ct"),
                (2, 15),
            ),
            C(
                "Paper & Notebooks",
                "Spiral Notebook, Composition Book, Sticky Notes, Printer Paper, Index Cards, Legal Pads",
                "College Ruled, Wide Ruled, Recycled, Colored, Premium, Pocket",
                ("1 ea", "5 ct", "500 sheets"),
                (2, 20),
            ),
            C(
                "Desk Supplies",
                "Stapler, Tape Dispenser, Scissors, Paper Clips, Binder Clips, Desk Organizer",
                "Heavy Duty, Compact, Assorted, Mesh, Soft Grip, Jumbo",
                ("1 ea", "100 ct", "12 ct"),
                (2, 25),
            ),
            C(
                "School Supplies",
                "Backpack, Pencil Case, Glue Sticks, Crayons, Colored Pencils, Calculator",
                "Classic, Washable, Scientific, Kids, 24 Count, Durable",
                ("1 ea", "6 ct", "24 ct"),
                (2, 40),
            ),
        ),
    ),
    Dept(
        "toys-games",
        "Toys & Games",
        ("PlayCraft", "Brainy Box", "Prime Play", "Funtastic", "Tiny Tinkers", "Game Night Co."),
        (
            C(
                "Board Games",
                "Family Board Game, Strategy Game, Card Game, Trivia Game, Puzzle Game, Party Game",
                "Classic, Deluxe, Travel, Junior, Expansion, Collector's",
                ("1 ea", "1 ea", "1 ea"),
                (10, 45),
            ),
            C(
                "Puzzles",
                "Jigsaw Puzzle, 3D Puzzle, Floor Puzzle, Brain Teaser, Wooden Puzzle, Puzzle Mat",
                "500 Piece, 1000 Piece, Kids, Landscape, Animals, Glow",
                ("1 ea", "1 ea", "1 ea"),
                (8, 30),
            ),
            C(
                "Building & Arts",
                "Building Blocks, Modeling Clay, Craft Kit, Coloring Book, Magnetic Tiles, Bead Kit",
                "Starter, Deluxe, Creative, Classic, STEM, Glitter",
                ("1 ea", "100 pc", "250 pc"),
                (6, 50),
            ),
            C(
                "Outdoor Play",
                "Bubble Wands, Sidewalk Chalk, Water Guns, Frisbee, Kite, Jump Rope",
                "Giant, Neon, Classic, Kids, Glow-in-the-Dark, Value Pack",
                ("1 ea", "4 ct", "12 ct"),
                (4, 25),
            ),
        ),
    ),
    Dept(
        "gifts",
        "Gifts & Flowers",
        (
            "Petal Post",
            "Gift Box Co.",
            "Prime Gifts",
            "Sweet Moments",
            "Bloom Street",
            "Card Corner",
        ),
        (
            C(
                "Flowers",
                "Rose Bouquet, Tulip Bouquet, Mixed Bouquet, Sunflowers, Orchid Plant, Succulent Trio",
                "Classic, Premium, Seasonal, Mini, Deluxe, Pastel",
                ("1 ea", "12 stems", "24 stems"),
                (15, 60),
            ),
            C(
                "Gift Baskets",
                "Snack Gift Basket, Chocolate Gift Box, Coffee Gift Set, Spa Gift Set, Fruit Basket, Cookie Tin",
                "Deluxe, Classic, Thank You, Get Well, Birthday, Holiday",
                ("1 ea", "1 ea", "1 ea"),
                (20, 80),
            ),
            C(
                "Greeting Cards",
                "Birthday Card, Thank You Card, Anniversary Card, Sympathy Card, Congratulations Card, Blank Card",
                "Funny, Heartfelt, Pop-Up, Handmade, Musical, Boxed Set",
                ("1 ea", "1 ea", "10 ct"),
                (3, 12),
            ),
            C(
                "Gift Wrap",
                "Wrapping Paper, Gift Bags, Tissue Paper, Ribbon, Gift Tags, Bows",
                "Birthday, Holiday, Kraft, Metallic, Solid, Assorted",
                ("1 roll", "3 ct", "12 ct"),
                (3, 14),
            ),
        ),
    ),
    Dept(
        "seasonal",
        "Seasonal",
        ("Holiday House", "Summer Days", "Prime Basics", "Harvest Moon", "Festive Co.", "Sunshine"),
        (
            C(
                "Summer",
                "Sunscreen Lotion, Beach Towel, Cooler Bag, Citronella Candle, Pool Float, Aloe Gel",
                "SPF 30, SPF 50, Large, Insulated, Kids, Family Size",
                ("1 ea", "8 oz", "2 ct"),
                (5, 35),
            ),
            C(
                "Holiday Decor",
                "String Lights, Ornament Set, Wreath, Garland, Advent Calendar, Stocking",
                "Warm White, Multicolor, Classic, Rustic, Glitter, Outdoor",
                ("1 ea", "24 ct", "50 ct"),
                (6, 45),
            ),
            C(
                "Party Supplies",
                "Balloons, Party Plates, Party Cups, Birthday Candles, Streamers, Party Favors",
                "Assorted Colors, Metallic, Gold, Kids, Biodegradable, Bulk",
                ("12 ct", "24 ct", "50 ct"),
                (3, 18),
            ),
            C(
                "Back to School",
                "Lunch Bag, Water Bottle, Notebook Bundle, Pencil Pouch, Backpack Tag, Planner",
                "Insulated, Kids, Teen, Colorful, Personalized, Durable",
                ("1 ea", "3 ct", "5 ct"),
                (4, 28),
            ),
        ),
    ),
    Dept(
        "sports-outdoors",
        "Sports & Outdoors",
        ("Trailhead", "Peak Gear", "Prime Active", "Summit", "FitLab", "Cascade"),
        (
            C(
                "Fitness",
                "Yoga Mat, Resistance Bands, Dumbbells, Jump Rope, Foam Roller, Kettlebell",
                "Non-Slip, Adjustable, Neoprene, Heavy, Light, Extra Thick",
                ("1 ea", "2 ct", "5 lb"),
                (10, 60),
            ),
            C(
                "Camping",
                "Headlamp, Camping Lantern, Sleeping Bag, Folding Chair, Fire Starter, Water Filter",
                "LED, Compact, Ultralight, Waterproof, Rechargeable, Deluxe",
                ("1 ea", "1 ea", "2 ct"),
                (8, 90),
            ),
            C(
                "Sports Nutrition",
                "Whey Protein Powder, Plant Protein Powder, Energy Gels, Electrolyte Tablets, Creatine, Pre-Workout",
                "Chocolate, Vanilla, Unflavored, Berry, Lemon Lime, Variety Pack",
                ("1 lb", "2 lb", "12 ct"),
                (10, 50),
            ),
            C(
                "Balls & Gear",
                "Basketball, Soccer Ball, Tennis Balls, Volleyball, Football, Pickleball Set",
                "Official Size, Youth, Indoor, Outdoor, Pro, Training",
                ("1 ea", "3 ct", "4 ct"),
                (8, 45),
            ),
        ),
    ),
    Dept(
        "international",
        "International Foods",
        ("Casa Maya", "Sakura Pantry", "Taj Spice", "Mediterra", "Prime Basics", "Seoul Kitchen"),
        (
            C(
                "Asian",
                "Ramen Noodles, Rice Noodles, Kimchi, Sriracha, Coconut Milk, Miso Paste",
                "Spicy, Original, Organic, Authentic, Low Sodium, Family Pack",
                ("3 oz", "14 oz", "6 ct"),
                (1, 9),
            ),
            C(
                "Latin",
                "Salsa Verde, Refried Beans, Tortilla Chips, Taco Seasoning, Mole Sauce, Chipotle Peppers",
                "Mild, Medium, Hot, Authentic, Organic, Restaurant Style",
                ("7 oz", "16 oz", "24 oz"),
                (1, 8),
            ),
            C(
                "Indian",
                "Basmati Rice, Tikka Masala Sauce, Red Lentils, Garam Masala, Mango Chutney, Naan",
                "Authentic, Mild, Spicy, Organic, Ready-to-Eat, Family Size",
                ("10 oz", "2 lb", "15 oz"),
                (2, 12),
            ),
            C(
                "Mediterranean",
                "Hummus, Tahini, Kalamata Olives, Stuffed Grape Leaves, Couscous, Falafel Mix",
                "Classic, Roasted Garlic, Organic, Imported, Spicy, Family Size",
                ("8 oz", "10 oz", "16 oz"),
                (2, 10),
            ),
        ),
    ),
    Dept(
        "deli-prepared",
        "Deli & Prepared Foods",
        (
            "Corner Deli",
            "Chef's Table",
            "Prime Kitchen",
            "Market Fresh",
            "Boar's Crest",
            "Daily Bowl",
        ),
        (
            C(
                "Sliced Meats",
                "Oven Roasted Turkey, Black Forest Ham, Genoa Salami, Roast Beef, Pepperoni, Chicken Breast",
                "Thin Sliced, Low Sodium, Honey, Smoked, Organic, Deli Fresh",
                ("7 oz", "8 oz", "16 oz"),
                (4, 12),
            ),
            C(
                "Ready Meals",
                "Rotisserie Chicken, Chicken Caesar Wrap, Sushi Roll, Grain Bowl, Soup of the Day, Pasta Salad",
                "Fresh Made, Classic, Spicy, Vegetarian, Family Size, Protein",
                ("1 ea", "12 oz", "2 lb"),
                (5, 15),
            ),
            C(
                "Dips & Spreads",
                "Guacamole, Spinach Dip, Salsa, Pimento Cheese, Tzatziki, Queso Dip",
                "Fresh, Spicy, Chunky, Classic, Organic, Party Size",
                ("8 oz", "12 oz", "16 oz"),
                (3, 9),
            ),
            C(
                "Specialty Cheese",
                "Aged Gouda, Goat Cheese, Burrata, Manchego, Blue Cheese, Havarti",
                "Imported, Artisan, Smoked, Herbed, Creamy, Aged 12 Months",
                ("4 oz", "6 oz", "8 oz"),
                (4, 14),
            ),
        ),
    ),
)

assert len(DEPARTMENTS) == 25


def category_slug(dept: Dept, cat: Cat) -> str:
    return f"{dept.slug}-{slugify(cat.name)}"


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    slug: str
    brand: str
    product_type: str
    size: str
    description: str
    department: str
    category: str
    price: Decimal
    age_restricted: bool
    attributes: dict[str, Any]


@cache
def _combos(d: int, c: int) -> list[tuple[str, str, str, str]]:
    dept = DEPARTMENTS[d]
    cat = dept.categories[c]
    combos = list(itertools.product(dept.brands, cat.variants, cat.items, cat.sizes))
    random.Random(f"{dept.slug}/{cat.name}").shuffle(combos)
    return combos


NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    # The demo names are ASCII: a plain regex is enough, and much faster than slugify().
    return NOT_SLUG.sub("-", text.lower()).strip("-")[:220].strip("-")


CENTS = ("29", "49", "79", "99", "99", "49")


def product_spec(i: int) -> ProductSpec:
    """The demo product number i (0-based)."""
    d = i % len(DEPARTMENTS)
    k = i // len(DEPARTMENTS)
    dept = DEPARTMENTS[d]
    c = k % len(dept.categories)
    cat = dept.categories[c]
    combos = _combos(d, c)
    brand, variant, item, size = combos[(k // len(dept.categories)) % len(combos)]
    spread = zlib.crc32(f"price:{i}".encode())
    low, high = cat.price
    price = Decimal(f"{low + spread % max(1, high - low)}.{CENTS[(spread >> 12) % len(CENTS)]}")
    name = f"{brand} {variant} {item}"
    sku = f"PN-{i + 1:06d}"
    attributes: dict[str, Any] = {}
    if "Organic" in variant:
        attributes["organic"] = True
    if "Gluten-Free" in variant:
        attributes["gluten_free"] = True
    description = (
        f"{variant} {item.lower()} from {brand}, {size}. "
        f"Part of our {cat.name.lower()} range in {dept.name}. {dept.blurb}"
    ).strip()
    return ProductSpec(
        sku=sku,
        name=name,
        slug=_slug(f"{name} {size}"),
        brand=brand,
        product_type=item,
        size=size,
        description=description,
        department=dept.slug,
        category=category_slug(dept, cat),
        price=price,
        age_restricted=dept.age_restricted,
        attributes=attributes,
    )
